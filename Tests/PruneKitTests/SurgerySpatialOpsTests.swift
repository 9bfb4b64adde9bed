import Testing
@testable import PruneKit

/// Surgery through Resize, Pad, InstanceNormalization and the smooth activations, proven with
/// the forward pass as SurgeryForwardTests does: channels zeroed at every site carry nothing,
/// so removing them must leave the output as it was; and the pruned graph still trains.
@Suite struct SurgerySpatialOpsTests {
    static func ints(_ v: [Int64]) -> Tensor { Tensor(shape: [v.count], int64s: v) }
    static func s(_ name: String, _ v: String) -> Attribute { Attribute(name, .string(v)) }

    /// A small U-Net-like decoder: every op under test between prunable convs.
    static func network() -> Graph {
        var b = GraphBuilder(name: "decoder", seed: 21)
        let x = b.input("input", shape: [2, 3, 8, 8])
        var h = b.conv(x, out: 8, kernel: 3, name: "c1")
        h = b.node("InstanceNormalization", [h, b.constant("n1.weight", Tensor(shape: [8], floats: (0..<8).map { 0.5 + Float($0) / 8 })),
                                             b.constant("n1.bias", Tensor(shape: [8], floats: (0..<8).map { Float($0) / 10 - 0.3 }))],
                   outputShape: [2, 8, 8, 8], attributes: [Attribute("epsilon", .float(1e-5))])
        h = b.node("Mish", [h], outputShape: [2, 8, 8, 8])
        h = b.node("Resize", [h, "", b.constant("x2", Tensor(shape: [4], floats: [1, 1, 2, 2]))], outputShape: [2, 8, 16, 16],
                   attributes: [s("mode", "linear")])
        h = b.node("Pad", [h, b.constant("pads", ints([0, 0, 1, 1, 0, 0, 1, 1]))], outputShape: [2, 8, 18, 18], attributes: [s("mode", "reflect")])
        h = b.conv(h, out: 6, kernel: 3, pad: 0, name: "c2")
        h = b.node("Softplus", [h], outputShape: [2, 6, 16, 16])
        // Constant sizes spelling out the channel count: surgery rewrites them.
        h = b.node("Resize", [h, "", "", b.constant("sizes", ints([2, 6, 8, 8]))], outputShape: [2, 6, 8, 8],
                   attributes: [s("mode", "nearest"), s("coordinate_transformation_mode", "asymmetric")])
        h = b.node("Pow", [h, b.constant("two", Tensor(shape: [], floats: [2]))], outputShape: [2, 6, 8, 8])
        h = b.node("Softsign", [b.conv(h, out: 5, kernel: 3, name: "c3")], outputShape: [2, 5, 8, 8])
        // Sizes read from the input's own shape at run time.
        let shape = b.node("Shape", [h], outputShape: [4])
        let head = b.node("Slice", [shape, b.constant("s0", ints([0])), b.constant("s2", ints([2]))], outputShape: [2])
        let sizes = b.node("Concat", [head, b.constant("hw", ints([12, 12]))], outputShape: [4], attributes: [Attribute("axis", .int(0))])
        h = b.node("Resize", [h, "", "", sizes], outputShape: [2, 5, 12, 12],
                   attributes: [s("mode", "linear"), s("coordinate_transformation_mode", "pytorch_half_pixel")])
        h = b.conv(h, out: 4, kernel: 3, name: "c4")
        h = b.flatten(b.globalAveragePool(b.relu(h)))
        b.output(b.linear(h, out: 10, name: "fc"))
        return b.graph
    }

    func input(seed: UInt64) -> Tensor {
        Tensor(shape: [2, 3, 8, 8], floats: KernelFixtures.values(2 * 3 * 64, seed: seed))
    }

    @Test func removingZeroedChannelsLeavesTheOutputUnchanged() throws {
        var g = Self.network()
        let groups = ChannelGroups.analyze(g)
        let prunable = Set(groups.groups.filter(\.prunable).map(\.name))
        #expect(prunable == ["c1", "c2", "c3", "c4"], "\(groups.groups.map { ($0.name, $0.reason ?? "") })")
        var removal: [Int: [Int]] = [:]
        for group in groups.groups where group.prunable {
            let chosen = stride(from: 1, to: group.size, by: 2).map { $0 }
            removal[group.id] = chosen
            g = SurgeryForwardTests().zeroing(g, groups, group: group.id, channels: chosen)
        }
        let pruned = try g.removingChannels(removal, groups: groups)
        #expect(pruned.initializers["sizes"]?.int64s() == [2, 3, 8, 8])
        #expect(pruned.initializers["n1.weight"]?.shape == [4])
        let x = input(seed: 8)
        let before = try Interpreter().run(g, inputs: ["input": x])[g.outputs[0].name]!.floats()
        let after = try Interpreter().run(pruned, inputs: ["input": x])[pruned.outputs[0].name]!.floats()
        #expect(before.count == 20 && after.count == 20)
        #expect(KernelFixtures.maxDifference(before, after) <= 1e-4 * max(1, before.map(abs).max() ?? 1))
    }

    /// Exporters store equal constants once: two Resizes reading one `sizes` on two convs'
    /// outputs stay two groups, and each gets its own kept count.
    @Test func resizesSharingTheirSizesArePrunedApart() throws {
        var b = GraphBuilder(name: "two", seed: 23)
        let x = b.input("input", shape: [2, 3, 8, 8])
        let sizes = b.constant("sizes", Self.ints([2, 6, 4, 4]))
        let attrs = [Self.s("mode", "nearest")]
        let l = b.node("Resize", [b.conv(x, out: 6, kernel: 3, name: "a"), "", "", sizes], outputShape: [2, 6, 4, 4], attributes: attrs)
        let r = b.node("Resize", [b.conv(x, out: 6, kernel: 3, name: "b"), "", "", sizes], outputShape: [2, 6, 4, 4], attributes: attrs)
        let h = b.concat([l, r])
        b.output(b.linear(b.flatten(b.globalAveragePool(b.conv(h, out: 4, kernel: 1, name: "c"))), out: 3, name: "fc"))
        var g = b.graph
        let groups = ChannelGroups.analyze(g)
        let a = try #require(groups.groups.first { $0.name == "a" }), bg = try #require(groups.groups.first { $0.name == "b" })
        #expect(a.prunable && bg.prunable && a.id != bg.id)
        g = SurgeryForwardTests().zeroing(g, groups, group: a.id, channels: [0, 1])
        g = SurgeryForwardTests().zeroing(g, groups, group: bg.id, channels: [5])
        let pruned = try g.removingChannels([a.id: [0, 1], bg.id: [5]], groups: groups)
        let resizes = pruned.nodes.filter { $0.opType == "Resize" }
        #expect(resizes.map { pruned.initializers[$0.inputs[3]]?.int64s() } == [[2, 4, 4, 4], [2, 5, 4, 4]])
        let input = Tensor(shape: [2, 3, 8, 8], floats: KernelFixtures.values(2 * 3 * 64, seed: 3))
        let before = try Interpreter().run(g, inputs: ["input": input])[g.outputs[0].name]!.floats()
        let after = try Interpreter().run(pruned, inputs: ["input": input])[pruned.outputs[0].name]!.floats()
        #expect(KernelFixtures.maxDifference(before, after) <= 1e-4 * max(1, before.map(abs).max() ?? 1))
    }

    /// With `--data` the pruned model is fine-tuned: every op has a backward, and the whole
    /// graph's gradients match finite differences.
    @Test func prunedNetworkGradientsMatchFiniteDifferences() throws {
        let g = Self.network()
        let groups = ChannelGroups.analyze(g)
        let removal = Dictionary(uniqueKeysWithValues: groups.groups.filter(\.prunable).map { ($0.id, [0]) })
        let pruned = try g.removingChannels(removal, groups: groups)
        let trainable = try TrainableGraph(pruned)
        #expect(trainable.parameterNames.contains("n1.weight") && !trainable.parameterNames.contains("x2"))
        let errors = try GraphGradientCheck.errors(trainable, inputs: ["input": NDArray(input(seed: 4))], mode: .training,
                                                   loss: GraphGradientCheck.projection(), samples: 4)
        #expect(errors.values.allSatisfy { $0 <= 1 }, "\(errors)")
    }
}
