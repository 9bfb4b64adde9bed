import Testing
@testable import PruneKit

/// Surgery through Split, Slice and the channel shuffle, proven with the forward pass as
/// SurgeryForwardTests does: channels zeroed at every site carry nothing, so removing them
/// must leave the output as it was; and the counts written are the ones worked out by hand.
@Suite struct SurgerySplitTests {
    /// Zeroes `removal` in `graph`, removes it, and checks the logits are unchanged and every
    /// Split's parts add up to its input in the pruned graph. Returns the pruned graph.
    func pruneAndCompare(_ graph: Graph, _ removal: [String: [Int]]) throws -> Graph {
        var g = graph
        let groups = ChannelGroups.analyze(g)
        var byId: [Int: [Int]] = [:]
        for (name, channels) in removal {
            let group = try #require(groups.groups.first { $0.name == name }, "\(groups.groups.map(\.name))")
            byId[group.id] = channels
            g = SurgeryForwardTests().zeroing(g, groups, group: group.id, channels: channels)
        }
        let pruned = try g.removingChannels(byId, groups: groups)
        let x = Tensor(shape: [2, 3, 6, 6], floats: KernelFixtures.values(216, seed: 9))
        let before = try Interpreter().run(g, inputs: ["input": x])["logits"]!.floats()
        let after = try Interpreter().run(pruned, inputs: ["input": x])["logits"]!.floats()
        #expect(before.count == 6 && after.count == 6)
        #expect(KernelFixtures.maxDifference(before, after) <= 1e-4 * max(1, before.map(abs).max() ?? 1))
        let shapes = ShapeInference(graph: pruned)
        for node in pruned.nodes where node.opType == "Split" {
            let input = try #require(shapes.shape(node.inputs[0]))
            let parts = node.outputs.map { shapes.shape($0) }
            #expect(parts.allSatisfy { $0 != nil }, "\(node.name)")
            #expect(parts.compactMap { $0?[1] }.reduce(0, +) == input[1] || parts.contains { $0?[1] == input[1] }, "\(node.name)")
        }
        return pruned
    }

    func split(_ g: Graph, _ name: String) throws -> Node { try #require(g.nodes.first { $0.name == name }) }

    /// c1's channels 1 | 4, 6 go: part 0 keeps 3 of 4, part 1 keeps 2 of 4.
    @Test(arguments: SplitShuffleFixtures.Spelling.allCases)
    func splitSizesBecomeTheKeptCounts(spelling: SplitShuffleFixtures.Spelling) throws {
        let pruned = try pruneAndCompare(SplitShuffleFixtures.channelSplit(spelling), ["c1": [1, 4, 6], "c2+c3": [2]])
        let node = try split(pruned, "split")
        #expect(pruned.initializers["c2.weight"]?.shape == [3, 3, 1, 1] && pruned.initializers["c3.weight"]?.shape == [3, 2, 1, 1])
        switch spelling {
        case .attribute11:
            #expect(node.ints("split") == [3, 2])
        case .input13, .outputCount13, .numOutputs18:
            #expect(pruned.initializers[node.inputs[1]]?.int64s() == [3, 2])
            #expect(node.int("num_outputs") == nil)
        }
    }

    @Test func splitAlongAnotherAxisKeepsItsSizes() throws {
        let pruned = try pruneAndCompare(SplitShuffleFixtures.spatialSplit(), ["c1": [0, 5]])
        #expect(pruned.initializers["split.sizes"]?.int64s() == [2, 4])
        #expect(pruned.initializers["r0.weight"]?.shape == [5, 6, 1, 1])
    }

    /// Of c1's channels 0, 3, 7: one lies before the slice (start 1), one inside (end 1 + 4).
    @Test func sliceBoundsMoveToTheKeptChannels() throws {
        let pruned = try pruneAndCompare(SplitShuffleFixtures.channelSlice(), ["c1": [0, 3, 7]])
        #expect(pruned.initializers["starts"]?.int64s() == [1] && pruned.initializers["ends"]?.int64s() == [5])
        #expect(pruned.initializers["c2.weight"]?.shape == [4, 4, 1, 1])
    }

    /// Removing A2 (and c0's channel 6, c3's 5): shuffle 1 keeps 6 of 8, shuffle 2 all 8, so
    /// the targets they shared part ways; split 1 keeps [3, 3], split 2 [4, 2].
    @Test func shuffleTargetsAndSplitsFollowTheKeptChannels() throws {
        let pruned = try pruneAndCompare(SplitShuffleFixtures.shuffleUnits(), ["c0+c1": [0], "c0": [2], "c3": [5]])
        func target(_ node: String) throws -> [Int64]? { pruned.initializers[try split(pruned, node).inputs[1]]?.int64s() }
        #expect(try target("view1") == [2, 2, 3, 6, 6] && target("back1") == [2, 6, 6, 6])
        #expect(try target("view2") == [2, 2, 4, 6, 6] && target("back2") == [2, 8, 6, 6])
        #expect(try target("split1") == [3, 3] && target("split2") == [4, 2])
        #expect(pruned.initializers["c3.weight"]?.shape == [5, 8, 3, 3])
    }

    /// Removing A1 and A2: both shuffles keep 4; the shared targets are rewritten for both.
    @Test func sharedShuffleTargetsRewrittenAlike() throws {
        let pruned = try pruneAndCompare(SplitShuffleFixtures.shuffleUnits(), ["c0+c1+c2": [1], "c0+c1": [0]])
        func target(_ node: String) throws -> [Int64]? { pruned.initializers[try split(pruned, node).inputs[1]]?.int64s() }
        #expect(try target("view1") == [2, 2, 2, 6, 6] && target("view2") == [2, 2, 2, 6, 6])
        #expect(try target("back1") == [2, 4, 6, 6] && target("back2") == [2, 4, 6, 6])
        #expect(try target("split2") == [2, 2])
        // No initializer is left that nothing reads.
        let read = Set(pruned.nodes.flatMap(\.inputs))
        #expect(pruned.initializers.keys.allSatisfy { read.contains($0) })
    }

    /// With `--data` the pruned model is fine-tuned: Split's gradient, against the same graph
    /// with each part taken by a Slice instead (Slice's rule is checked against finite
    /// differences in TrainingOpGradientTests, Split's own with one part unread there too).
    @Test func splitGradientsEqualThoseOfSlices() throws {
        let g = SplitShuffleFixtures.shuffleUnits()
        var sliced = g
        for (i, node) in g.nodes.enumerated().reversed() where node.opType == "Split" {
            let sizes = g.initializers[node.inputs[1]]!.int64s()
            var start: Int64 = 0
            var slices: [Node] = []
            for (k, n) in sizes.enumerated() {
                let bounds = ["\(node.name).s\(k)", "\(node.name).e\(k)", "\(node.name).axis"]
                sliced.setInitializer(bounds[0], SplitShuffleFixtures.ints([start]))
                sliced.setInitializer(bounds[1], SplitShuffleFixtures.ints([start + n]))
                sliced.setInitializer(bounds[2], SplitShuffleFixtures.ints([1]))
                slices.append(Node(name: "\(node.name).slice\(k)", opType: "Slice", inputs: [node.inputs[0]] + bounds, outputs: [node.outputs[k]]))
                start += n
            }
            sliced.nodes[i] = slices[0]
            sliced.nodes.insert(contentsOf: slices.dropFirst(), at: i + 1)
        }
        #expect(sliced.nodes.filter { $0.opType == "Split" }.isEmpty)
        let x: [String: NDArray<Float>] = ["input": NDArray<Float>(Tensor(shape: [2, 3, 6, 6], floats: KernelFixtures.values(216, seed: 4)))]
        var results: [[String: NDArray<Float>]] = []
        for graph in [g, sliced] {
            let trainable = try TrainableGraph(graph)
            let pass = try trainable.forward(inputs: x, state: trainable.initialState(), mode: .training)
            let seed = try GraphGradientCheck.projection()(pass.outputs["logits"]!).gradient
            results.append(try trainable.backward(pass, seeds: ["logits": seed]))
        }
        #expect(Set(results[0].keys) == ["c0.weight", "c0.bias", "c1.weight", "c2.weight", "c3.weight", "fc.weight"])
        for (name, gradient) in results[0] {
            #expect(KernelFixtures.maxDifference(gradient.storage, results[1][name]!.storage) <= 1e-6, "\(name)")
            #expect(gradient.storage.contains { $0 != 0 }, "\(name)")
        }
    }

    @Test func removingAWholeSplitPartIsAnError() throws {
        let g = SplitShuffleFixtures.channelSplit(.input13)
        let groups = ChannelGroups.analyze(g)
        let c1 = try #require(groups.groups.first { $0.name == "c1" })
        #expect(throws: SurgeryError.emptyOutput(node: "split", opType: "Split", output: 0)) {
            try g.removingChannels([c1.id: [0, 1, 2, 3]], groups: groups)
        }
    }

    /// The slice takes c1's channels 2...6 (start −6, end 7 of 8): removing them all is refused,
    /// not written as a Slice of nothing.
    @Test func removingEveryChannelASliceTakesIsAnError() throws {
        let g = SplitShuffleFixtures.channelSlice()
        let groups = ChannelGroups.analyze(g)
        let c1 = try #require(groups.groups.first { $0.name == "c1" })
        #expect(throws: SurgeryError.emptyOutput(node: "slice", opType: "Slice", output: 0)) {
            try g.removingChannels([c1.id: [2, 3, 4, 5, 6]], groups: groups)
        }
        _ = try g.removingChannels([c1.id: [2, 3, 4, 5]], groups: groups)
    }
}
