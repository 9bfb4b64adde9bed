import Testing
@testable import PruneKit

/// Bias compensation at surgery: a removed channel whose weights are zero outputs a constant
/// (its bias through ReLU); folded into the consumers' biases, removing it changes nothing.
@Suite struct BiasCompensationTests {
    /// input 3×8×8 → a (conv 3→6, 3×3, pad 0) → `activation` → b (conv 6→5, 3×3, pad 0) → ReLU
    /// → flatten → fc (Gemm 80→4). Channels 1 and 4 of a and channel 2 of b have zero weights
    /// but non-zero biases (a's: 0.7 and −0.3, so that ReLU cuts one of them).
    func model(bBias: Bool = true, activation: String = "Relu") -> Graph {
        var g = GraphBuilder(name: "constant-channels", seed: 21)
        let x = g.input("input", shape: [1, 3, 8, 8])
        var h = g.conv(x, out: 6, kernel: 3, pad: 0, name: "a")
        h = g.node(activation, [h], outputShape: g.shape(h))
        h = g.relu(g.conv(h, out: 5, kernel: 3, pad: 0, bias: bBias, name: "b"))
        g.output(g.linear(g.flatten(h), out: 4, name: "fc"))
        var graph = g.graph
        zeroRows(&graph, "a.weight", [1, 4])
        zeroRows(&graph, "b.weight", [2])
        var bias = graph.initializers["a.bias"]!.floats()
        (bias[1], bias[4]) = (0.7, -0.3)
        graph.initializers["a.bias"] = Tensor(shape: [6], floats: bias)
        if bBias {
            var b = graph.initializers["b.bias"]!.floats()
            b[2] = 0.5
            graph.initializers["b.bias"] = Tensor(shape: [5], floats: b)
        }
        return graph
    }

    func zeroRows(_ g: inout Graph, _ name: String, _ rows: [Int]) {
        let t = g.initializers[name]!
        var v = t.floats()
        let per = t.count / t.shape[0]
        for r in rows { for k in 0..<per { v[r * per + k] = 0 } }
        g.initializers[name] = Tensor(shape: t.shape, floats: v)
    }

    func logits(_ g: Graph, seed: UInt64 = 3) throws -> [Float] {
        var rng = Xoshiro256StarStar(seed: seed)
        let x = Tensor(shape: [1, 3, 8, 8], floats: (0..<192).map { _ in Float(2 * rng.nextDouble() - 1) })
        return try Interpreter().run(g, inputs: ["input": x])[g.outputs[0].name]!.floats()
    }

    func removal(_ groups: ChannelGroups) throws -> [Int: [Int]] {
        let a = try #require(groups.groups.first { $0.name == "a" }), b = try #require(groups.groups.first { $0.name == "b" })
        return [a.id: [1, 4], b.id: [2]]
    }

    func maxDifference(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).map { abs($0 - $1) }.max() ?? .infinity }

    @Test(arguments: [true, false])
    func removingConstantChannelsIsExactWithCompensation(bBias: Bool) throws {
        let g = model(bBias: bBias)
        let groups = ChannelGroups.analyze(g)
        let removal = try removal(groups)
        let c = g.compensatingBiases(removing: removal, groups: groups, shapes: ShapeInference(graph: g))
        let pruned = try c.graph.removingChannels(removal, groups: c.groups)
        #expect(pruned.initializers["b.weight"]?.shape == [4, 4, 3, 3])
        #expect(pruned.initializers["fc.weight"]?.shape == [4, 64])
        let before = try logits(g)
        #expect(maxDifference(before, try logits(pruned)) <= 1e-4)
        // Without it the constants are lost: the output moves.
        #expect(maxDifference(before, try logits(try g.removingChannels(removal, groups: groups))) > 1e-2)
        // a's channel 4 is cut to 0 by ReLU: nothing to carry; channel 1 goes into b, and b's
        // channel 2 (its bias, 0.5, when it has one; else 0) into fc.
        #expect(c.report.channels.map(\.group) == (bBias ? ["a", "b"] : ["a"]))
        #expect(c.report.channels.map(\.channel) == (bBias ? [1, 2] : [1]))
        #expect(c.report.channels.first { $0.group == "a" }?.into == ["b"])
        #expect(c.report.skippedChannels == 0)
        if bBias {
            #expect(c.report.channels.first { $0.group == "b" }?.into == ["fc"])
            #expect(c.report.tensors == ["b.bias", "fc.bias"])
        } else {
            let made = try #require(c.report.tensors.first)
            #expect(c.report.tensors == [made] && made.hasSuffix(".compensation_bias"))
            #expect(pruned.initializers[made]?.shape == [4], "the made bias is sliced with b's rows")
        }
    }

    @Test func constantsAreNotCarriedThroughOpsWhereTheyDoNotStayExact() throws {
        // Tanh is not one of the ops compensation follows: a's channel 1 is dropped there, and said so.
        let g = model(activation: "Tanh")
        let groups = ChannelGroups.analyze(g)
        let a = try #require(groups.groups.first { $0.name == "a" })
        let c = g.compensatingBiases(removing: [a.id: [1]], groups: groups, shapes: ShapeInference(graph: g))
        #expect(c.graph == g)
        #expect(c.report.tensors.isEmpty)
        #expect(c.report.channels.count == 1 && c.report.channels[0].into.isEmpty)
        #expect(c.report.channels[0].skipped.count == 1 && c.report.channels[0].skipped[0].hasPrefix("Tanh"))
        #expect(c.report.skippedChannels == 1)
    }

    @Test func residualAddsOfRemovedChannelsAreCarriedAndBatchNormShiftsTakeTheirConstants() throws {
        // The example ResNet: convs without bias into BN, a residual add; zero the weights of two
        // channels of the first block's group (stem, both convs that feed its add): BN makes them
        // constants, the add sums them, and the next convs (into their BN shifts) take them.
        var g = ExampleArchitecture.resnet.build(seed: 8, inputSize: 8)
        let groups = ChannelGroups.analyze(g)
        let tied = try #require(groups.groups.first { $0.producers.count > 1 && $0.prunable })
        for site in groups.sites where site.role == .producer && tied.channels.contains(site.channels[0]) {
            let rows = site.channels.indices.filter { [tied.channels[1], tied.channels[5]].contains(site.channels[$0]) }
            zeroRows(&g, site.tensor, rows)
        }
        let removal = [tied.id: [1, 5]]
        let c = g.compensatingBiases(removing: removal, groups: groups, shapes: ShapeInference(graph: g))
        let pruned = try c.graph.removingChannels(removal, groups: c.groups)
        var rng = Xoshiro256StarStar(seed: 1)
        let x = Tensor(shape: [1, 3, 8, 8], floats: (0..<192).map { _ in Float(2 * rng.nextDouble() - 1) })
        let run = { (graph: Graph) throws -> [Float] in try Interpreter().run(graph, inputs: ["input": x])[graph.outputs[0].name]!.floats() }
        // Through the residual add and its ReLU (a negative sum is cut to 0 and carries nothing).
        #expect(!c.report.channels.isEmpty && c.report.skippedChannels == 0, "\(c.report)")
        #expect(c.report.channels.allSatisfy { $0.group == tied.name })
        #expect(c.report.compensatedLayers.contains("layer2.0.downsample.0"), "past the add: the block's output feeds the projection")
        #expect(c.report.tensors.allSatisfy { $0.hasSuffix(".bias") } && !c.report.tensors.isEmpty)
        #expect(ModelStats(graph: pruned, shapes: ShapeInference(graph: pruned)).params
                == ModelStats(graph: try g.removingChannels(removal, groups: groups), shapes: ShapeInference(graph: g)).params,
                "BN shifts take the constants: no parameter is added")
        // Zero padding: border outputs of the 3×3 consumers see fewer taps, so not exact there.
        let before = try run(g), after = try run(pruned), plain = try run(try g.removingChannels(removal, groups: groups))
        #expect(maxDifference(before, after) < maxDifference(before, plain))
    }
}
