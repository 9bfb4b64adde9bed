import Testing
@testable import PruneKit

/// Dependency analysis through Split, Slice and the channel shuffle: which channels each
/// consumer reads, worked out by hand from the graphs in `SplitShuffleFixtures`.
@Suite struct ChannelAnalysisSplitTests {
    func group(_ groups: ChannelGroups, _ name: String) throws -> ChannelGroup {
        try #require(groups.groups.first { $0.name == name }, "\(groups.groups.map { ($0.name, $0.size, $0.reason ?? "") })")
    }

    func readers(_ groups: ChannelGroups, _ tensor: String) throws -> [Int] {
        try #require(groups.sites.first { $0.tensor == tensor && $0.axis == 1 }).channels
    }

    @Test(arguments: SplitShuffleFixtures.Spelling.allCases)
    func splitOnChannelsHandsEachOutputItsPart(spelling: SplitShuffleFixtures.Spelling) throws {
        let groups = ChannelGroups.analyze(SplitShuffleFixtures.channelSplit(spelling))
        let c1 = try group(groups, "c1")
        #expect(c1.prunable && c1.size == 8)
        #expect(try readers(groups, "c2.weight") == Array(c1.channels[0..<4]))
        #expect(try readers(groups, "c3.weight") == Array(c1.channels[4..<8]))
        #expect(try group(groups, "c2+c3").prunable)
        #expect(groups.countFixes.map(\.values) == [[4, 4]])
    }

    @Test func splitAlongAnotherAxisGivesEveryOutputAllChannels() throws {
        let groups = ChannelGroups.analyze(SplitShuffleFixtures.spatialSplit())
        let c1 = try group(groups, "c1")
        #expect(c1.prunable)
        #expect(try readers(groups, "r0.weight") == c1.channels)
        #expect(try readers(groups, "r1.weight") == c1.channels)
        #expect(groups.countFixes.isEmpty)
    }

    @Test func sliceOfConsecutiveChannelsCarriesThemAndAStridedOnePins() throws {
        let groups = ChannelGroups.analyze(SplitShuffleFixtures.channelSlice())
        let c1 = try group(groups, "c1")
        #expect(c1.prunable)
        // start −6 of 8 is channel 2, end 7: channels 2...6.
        #expect(try readers(groups, "c2.weight") == Array(c1.channels[2..<7]))

        let strided = try group(ChannelGroups.analyze(SplitShuffleFixtures.channelSlice(step: 2)), "c1")
        #expect(!strided.prunable)
        #expect(strided.reason?.contains("Slice 'slice' takes every 2th channel") == true, "\(strided.reason ?? "")")
    }

    /// Shuffle 1 ties c0's channel j to c1's channel j (j < 4) and interleaves them:
    /// [A0, A0, A1, A1, A2, A2, A3, A3]. Split 2 gives c2 [A2, A2, A3, A3]; shuffle 2 ties c2's
    /// channels 0, 1 to A0 and 2, 3 to A1, and c3 reads [A0 ×4, A1 ×4]. c0's channels 4...7
    /// are read by c1 only.
    @Test func channelShufflePermutesAndTiesTheInterleavedSets() throws {
        let groups = ChannelGroups.analyze(SplitShuffleFixtures.shuffleUnits())
        let shared = try group(groups, "c0+c1+c2"), pair = try group(groups, "c0+c1"), own = try group(groups, "c0")
        #expect(shared.prunable && shared.size == 2)
        #expect(pair.prunable && pair.size == 2)
        #expect(own.prunable && own.size == 4)
        #expect(try group(groups, "c3").prunable)
        let a = shared.channels + pair.channels
        #expect(try readers(groups, "c1.weight") == own.channels)
        #expect(try readers(groups, "c2.weight") == [a[2], a[2], a[3], a[3]])
        #expect(try readers(groups, "c3.weight") == [a[0], a[0], a[0], a[0], a[1], a[1], a[1], a[1]])
        // Both reshapes of both shuffles, and both splits, have counts to rewrite.
        #expect(groups.countFixes.count == 6)
    }

    @Test func aShuffleReshapingToAComputedShapeIsPinnedByName() throws {
        var g = SplitShuffleFixtures.shuffleUnits()
        g.nodes.insert(Node(name: "copy", opType: "Identity", inputs: ["to5d"], outputs: ["to5d.copy"]), at: 0)
        let view = try #require(g.nodes.firstIndex { $0.name == "view1" })
        g.nodes[view].inputs[1] = "to5d.copy"
        let groups = ChannelGroups.analyze(g)
        let pinned = groups.groups.filter { !$0.prunable && !ChannelGroup.isBoundary(reason: $0.reason ?? "") }
        #expect(!pinned.isEmpty)
        #expect(pinned.allSatisfy {
            $0.reason?.hasPrefix("channel shuffle (Reshape-Transpose-Reshape) at node 'view1'") == true
        }, "\(pinned.map { $0.reason ?? "" })")
    }
}
