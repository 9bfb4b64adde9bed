import Testing
@testable import PruneKit

/// Surgery proven with the forward pass: what it removes carries nothing, what it keeps still runs.
@Suite struct SurgeryForwardTests {
    func input(seed: UInt64, size: Int = 32) -> Tensor {
        var rng = Xoshiro256StarStar(seed: seed)
        return Tensor(shape: [1, 3, size, size], floats: (0..<(3 * size * size)).map { _ in Float(2 * rng.nextDouble() - 1) })
    }

    func logits(_ g: Graph, _ x: Tensor) throws -> [Float] {
        try Interpreter().run(g, inputs: ["input": x])[g.outputs[0].name]!.floats()
    }

    func maxDifference(_ a: [Float], _ b: [Float]) -> Float {
        zip(a, b).map { abs($0 - $1) }.max() ?? .infinity
    }

    /// Zeroes channel `c` of group `g` in every tensor it reaches: after that the channel adds nothing.
    func zeroing(_ graph: Graph, _ groups: ChannelGroups, group: Int, channels: [Int]) -> Graph {
        var g = graph
        let dead = Set(channels.map { groups.groups[group].channels[$0] })
        for site in groups.sites {
            guard let t = g.initializers[site.tensor] else { continue }
            var v = t.floats()
            let dim = t.shape[site.axis], inner = t.shape[(site.axis + 1)...].reduce(1, *)
            let outer = t.shape[..<site.axis].reduce(1, *)
            for (pos, c) in site.channels.enumerated() where dead.contains(c) {
                for o in 0..<outer { for k in 0..<inner { v[(o * dim + pos) * inner + k] = 0 } }
            }
            g.initializers[site.tensor] = Tensor(shape: t.shape, floats: v, dtype: t.dtype)
        }
        return g
    }

    @Test(arguments: ExampleArchitecture.allCases)
    func removingZeroedChannelsLeavesTheOutputUnchanged(arch: ExampleArchitecture) throws {
        var g = arch.build(seed: 11)
        let groups = ChannelGroups.analyze(g)
        var removal: [Int: [Int]] = [:]
        for group in groups.groups where group.prunable {
            let chosen = stride(from: 1, to: group.size, by: 3).map { $0 }
            removal[group.id] = chosen
            g = zeroing(g, groups, group: group.id, channels: chosen)
        }
        #expect(removal.count >= 3)
        let pruned = try g.removingChannels(removal, groups: groups)
        #expect(ModelStats(graph: pruned, shapes: ShapeInference(graph: pruned)).params
                < ModelStats(graph: g, shapes: ShapeInference(graph: g)).params)
        let x = input(seed: 5)
        let before = try logits(g, x), after = try logits(pruned, x)
        #expect(before.count == 10 && after.count == 10)
        #expect(maxDifference(before, after) <= 1e-5)
    }

    @Test func deadFiltersThroughReluRemoveWithoutTouchingTheirConsumers() throws {
        // Zero only the producer side (rows and bias) of two concat-branch filters: ReLU(0) = 0,
        // so removing them — and the consumer's input slices, which are not zero — changes nothing.
        var g = ExampleArchitecture.concat.build(seed: 4)
        let groups = ChannelGroups.analyze(g)
        let right = try #require(groups.groups.first { $0.name == "branch2" })
        for name in ["branch2.weight", "branch2.bias"] {
            let t = g.initializers[name]!
            var v = t.floats()
            let per = t.count / t.shape[0]
            for f in [2, 7] { for k in 0..<per { v[f * per + k] = 0 } }
            g.initializers[name] = Tensor(shape: t.shape, floats: v)
        }
        let pruned = try g.removingChannels([right.id: [2, 7]], groups: groups)
        #expect(pruned.initializers["mix.weight"]?.shape == [24, 18, 3, 3])
        let x = input(seed: 9)
        #expect(maxDifference(try logits(g, x), try logits(pruned, x)) <= 1e-5)
    }

    @Test func prunedResidualNetRunsWithTheExpectedShapes() throws {
        let g = ExampleArchitecture.resnet.build(seed: 2)
        let r = try MagnitudePruner(rate: 0.5).prune(g, task: "resnet", source: "")
        let values = try Interpreter().run(r.graph, inputs: ["input": input(seed: 1)], fetching: [
            r.graph.nodes.first { $0.name == "layer1.0.conv2" }!.outputs[0],
            r.graph.nodes.first { $0.name == "layer2.0.downsample.0" }!.outputs[0],
            r.graph.outputs[0].name,
        ])
        let shapes = Set(values.values.map(\.shape))
        #expect(shapes == [[1, 8, 32, 32], [1, 16, 16, 16], [1, 10]])
    }

    @Test func prunedModelSurvivesAnONNXRoundTrip() throws {
        let g = ExampleArchitecture.depthwise.build(seed: 6)
        let pruned = try MagnitudePruner(rate: 0.5).prune(g, task: "dw", source: "").graph
        let back = try ONNXFile.read(ONNXFile.write(pruned))
        #expect(back.initializers == pruned.initializers)
        let x = input(seed: 3)
        #expect(try logits(back, x) == logits(pruned, x))
    }
}
