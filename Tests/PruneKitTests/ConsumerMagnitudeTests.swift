import Testing
@testable import PruneKit

/// The `consumer` magnitude (what the next layers read of each channel) against values worked out
/// by hand on nets small enough to check on paper.
@Suite struct ConsumerMagnitudeTests {
    /// input(2) → conv "c" (3 filters, 1×1) → relu → conv "d" (2 filters over c's 3 channels, given)
    /// [→ BN "bn" (γ, var given)] → output.
    func readerNet(readers: [Float] = [1, -2, 0.5, 3, 0, -1], bn: (gamma: [Float], variance: [Float])? = nil) -> Graph {
        var b = GraphBuilder(name: "reader", seed: 3)
        let x = b.input("x", shape: [1, 2, 4, 4])
        let h = b.relu(b.conv(x, out: 3, kernel: 1, pad: 0, bias: true, name: "c"))
        var y = b.conv(h, out: 2, kernel: 1, pad: 0, bias: false, name: "d")
        if bn != nil { y = b.batchNorm(y, name: "bn") }
        b.output(y)
        var g = b.graph
        g.initializers["d.weight"] = Tensor(shape: [2, 3, 1, 1], floats: readers)
        if let bn {
            g.initializers["bn.weight"] = Tensor(shape: [2], floats: bn.gamma)
            g.initializers["bn.running_var"] = Tensor(shape: [2], floats: bn.variance)
        }
        return g
    }

    func scores(_ g: Graph, group name: String, gains: Bool = true) throws -> [Double] {
        let groups = ChannelGroups.analyze(g)
        let id = try #require(groups.groups.first { $0.name == name }).id
        return MagnitudeCriterion.consumerL1(ofGroup: id, groups: groups, lookup: ChannelGroupLookup(groups), graph: g,
                                             outputGains: gains ? MagnitudeCriterion.batchNormGains(g) : [:])
    }

    func close(_ a: [Double], _ b: [Double], _ tolerance: Double = 1e-5) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= tolerance * max(1, abs($1)) }
    }

    @Test func consumerScoreIsTheL1OfWhatTheReadersTakeOfEachChannel() throws {
        // d = [[1, −2, 0.5], [3, 0, −1]]: channel 0 is read with |1| + |3|, 1 with |−2| + 0, 2 with 0.5 + |−1|.
        #expect(try scores(readerNet(), group: "c") == [4, 2, 1.5])
    }

    @Test func aReaderFollowedByBatchNormCountsAsItsFoldedSelf() throws {
        // Gains |γ|/√(var + ε): |2|/√4 = 1 for d's row 0, |−1|/√0.25 = 2 for row 1 (ε = 1e-5 taken off the variance).
        let kept = readerNet(bn: (gamma: [2, -1], variance: [4 - 1e-5, 0.25 - 1e-5]))
        #expect(close(try scores(kept, group: "c"), [1 * 1 + 3 * 2, 2 * 1 + 0, 0.5 * 1 + 1 * 2]))
        #expect(try scores(kept, group: "c", gains: false) == [4, 2, 1.5])
        // The BN folded into d by hand (row 0 × 2/2, row 1 × −1/0.5): the same scores, with no BN to read.
        let folded = readerNet(readers: [1, -2, 0.5, -6, 0, 2])
        #expect(close(try scores(folded, group: "c"), try scores(kept, group: "c")))
        #expect(close(try #require(MagnitudeCriterion.batchNormGains(kept)["d"]).map(Double.init), [1, 2]))
    }

    @Test func flattenedChannelsAreReadThroughAllTheirColumns() throws {
        // conv "c" (2 channels of 2×2) → flatten → linear "fc" [2 × 8]: channel 0 is columns 0–3, channel 1 columns 4–7.
        var b = GraphBuilder(name: "flat", seed: 5)
        let x = b.input("x", shape: [1, 1, 2, 2])
        let h = b.relu(b.conv(x, out: 2, kernel: 1, pad: 0, name: "c"))
        b.output(b.linear(b.flatten(h), out: 2, name: "fc"))
        var g = b.graph
        g.initializers["fc.weight"] = Tensor(shape: [2, 8], floats: [1, -1, 2, 0, 0.5, 0.5, 0, 0,
                                                                     0, 3, -1, 1, 0, 0, 0, -4])
        // Channel 0: (1 + 1 + 2 + 0) + (0 + 3 + 1 + 1) = 9; channel 1: (0.5 + 0.5) + 4 = 5.
        #expect(try scores(g, group: "c") == [9, 5])
    }

    @Test func aChannelReadOnSeveralBranchesSumsItsReaders() throws {
        // conv "a" (2 channels) → relu, read by conv "p" and conv "q" (1×1, 2 → 2), whose sum goes to conv "r".
        var b = GraphBuilder(name: "branches", seed: 7)
        let x = b.input("x", shape: [1, 1, 3, 3])
        let a = b.relu(b.conv(x, out: 2, kernel: 1, pad: 0, name: "a"))
        let s = b.add(b.conv(a, out: 2, kernel: 1, pad: 0, bias: false, name: "p"), b.conv(a, out: 2, kernel: 1, pad: 0, bias: false, name: "q"))
        b.output(b.conv(b.relu(s), out: 1, kernel: 1, pad: 0, name: "r"))
        var g = b.graph
        g.initializers["p.weight"] = Tensor(shape: [2, 2, 1, 1], floats: [1, 2, -3, 0])
        g.initializers["q.weight"] = Tensor(shape: [2, 2, 1, 1], floats: [0.5, -1, 0, 4])
        // Channel 0: p (1 + 3) + q (0.5 + 0) = 4.5; channel 1: p (2 + 0) + q (1 + 4) = 7.
        #expect(try scores(g, group: "a") == [4.5, 7])
        // p and q's outputs are one residual group; r reads it: |r| per channel.
        let r = g.initializers["r.weight"]!.floats().map { Double(abs($0)) }
        #expect(try scores(g, group: "p+q") == r)
    }

    @Test func evidenceUsesTheConsumerScoreWhenAsked() throws {
        let g = readerNet(bn: (gamma: [2, -1], variance: [4 - 1e-5, 0.25 - 1e-5]))
        let aligned = try AlignedTasks(names: ["t"], graphs: [g])
        let options = MFISOptions(criteria: [.magnitude], sharing: false, magnitudeScore: .consumer)
        let evidence = GroupEvidence.collect(aligned, options: options)
        let c = try #require(aligned.groups.first { $0.name == "c" }).id
        let e = try #require(evidence.first { $0.group == c })
        #expect(close(e.scores[0].magnitude, [7, 2, 2.5]))
        // The producer score on the same group: L1 of c's rows (no BN follows c).
        let producer = GroupEvidence.collect(aligned, options: MFISOptions(criteria: [.magnitude], sharing: false, magnitudeScore: .producer))
        let rows = g.initializers["c.weight"]!.floats()
        #expect(close(try #require(producer.first { $0.group == c }).scores[0].magnitude,
                      (0..<3).map { Double(abs(rows[2 * $0]) + abs(rows[2 * $0 + 1])) }))
    }

    @Test func consumerRowsAreWhatTheReadersTakeOfEachChannel() throws {
        let g = readerNet(bn: (gamma: [2, -1], variance: [4 - 1e-5, 0.25 - 1e-5]))
        let groups = ChannelGroups.analyze(g)
        let c = try #require(groups.groups.first { $0.name == "c" }).id
        let lookup = ChannelGroupLookup(groups)
        // Channel i's row is column i of d = [[1, −2, 0.5], [3, 0, −1]], over d's two output rows.
        #expect(FilterMatrix.consumers(ofGroup: c, groups: groups, lookup: lookup, graph: g)
                == FilterMatrix(rows: 3, width: 2, values: [1, 3, -2, 0, 0.5, -1]))
        // With the BN after d folded in: row 0 × 1, row 1 × 2 (up to the ε rounding).
        let folded = FilterMatrix.consumers(ofGroup: c, groups: groups, lookup: lookup, graph: g,
                                            outputGains: MagnitudeCriterion.batchNormGains(g))
        #expect(close(folded.values.map(Double.init), [1, 6, -2, 0, 0.5, -2]))
    }

    @Test func irreplaceabilityComparesTheReadersRowsWhenAsked() throws {
        // Rows (1, 3), (−2, 0), (0.5, −1): ‖r0 − r1‖ = √18, ‖r0 − r2‖ = √16.25, ‖r1 − r2‖ = √7.25.
        let aligned = try AlignedTasks(names: ["t"], graphs: [readerNet()])
        let c = try #require(aligned.groups.first { $0.name == "c" }).id
        let options = MFISOptions(criteria: [.magnitude, .irreplaceability], sharing: false, irreplaceabilityRows: .consumer)
        let e = try #require(GroupEvidence.collect(aligned, options: options).first { $0.group == c })
        let (a, b, d) = (Double(18).squareRoot(), Double(16.25).squareRoot(), Double(7.25).squareRoot())
        #expect(close(e.scores[0].irreplaceability, [a + b, a + d, b + d]))
        // The filters' own rows otherwise (c's 3 rows of 2 input weights).
        let producer = MFISOptions(criteria: [.magnitude, .irreplaceability], sharing: false, irreplaceabilityRows: .producer)
        let p = try #require(GroupEvidence.collect(aligned, options: producer).first { $0.group == c })
        let filters = FilterMatrix.producers(ofGroup: c, groups: aligned.tasks[0].groups, lookup: aligned.tasks[0].lookup, graph: aligned.tasks[0].graph)
        #expect(close(p.scores[0].irreplaceability, IrreplaceabilityCriterion.fpgm(FilterGeometry(filters))))
        #expect(!close(p.scores[0].irreplaceability, e.scores[0].irreplaceability))
    }

    @Test func aGroupNothingReadsFallsBackToItsFilters() throws {
        let g = readerNet(readers: [0, 0, 0, 0, 0, 0])
        let aligned = try AlignedTasks(names: ["t"], graphs: [g])
        let options = MFISOptions(criteria: [.magnitude, .irreplaceability], sharing: false, magnitudeScore: .consumer,
                                  irreplaceabilityRows: .consumer)
        let c = try #require(aligned.groups.first { $0.name == "c" }).id
        let e = try #require(GroupEvidence.collect(aligned, options: options).first { $0.group == c })
        let rows = g.initializers["c.weight"]!.floats()
        #expect(close(e.scores[0].magnitude, (0..<3).map { Double(abs(rows[2 * $0]) + abs(rows[2 * $0 + 1])) }))
        let filters = FilterMatrix.producers(ofGroup: c, groups: aligned.tasks[0].groups, lookup: aligned.tasks[0].lookup, graph: aligned.tasks[0].graph)
        #expect(close(e.scores[0].irreplaceability, IrreplaceabilityCriterion.fpgm(FilterGeometry(filters))))
    }
}
