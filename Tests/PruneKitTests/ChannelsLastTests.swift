import Testing
@testable import PruneKit

/// Channels laid out last (ConvNeXt): analysis through Transpose [0, 2, 3, 1], LayerNorm over
/// the last axis, MatMul on it, the layer scale and the Transpose back; surgery proven by the
/// forward pass (zeroed channels behind no LayerNorm change nothing when removed) and by a
/// LayerNorm over the kept channels recomputed here by hand.
@Suite struct ChannelsLastTests {
    /// Stem conv, LayerNorm2d, block b1, LayerNorm2d + strided conv, block b2, pool, linear.
    static func tinyConvNeXt() -> Graph {
        var b = GraphBuilder(name: "tiny-convnext", seed: 31)
        var h = b.conv(b.input("input", shape: [2, 3, 8, 8]), out: 8, kernel: 3, name: "stem")
        h = b.transpose(b.layerNorm(b.transpose(h, perm: [0, 2, 3, 1]), name: "stem.norm"), perm: [0, 3, 1, 2])
        h = b.convNeXtBlock(h, name: "b1")
        h = b.transpose(b.layerNorm(b.transpose(h, perm: [0, 2, 3, 1]), name: "down.norm"), perm: [0, 3, 1, 2])
        h = b.conv(h, out: 16, kernel: 2, stride: 2, pad: 0, name: "down")
        h = b.convNeXtBlock(h, name: "b2")
        h = b.linear(b.flatten(b.globalAveragePool(h)), out: 6, name: "head")
        b.output(h)
        return b.graph
    }

    func group(_ groups: ChannelGroups, _ name: String) throws -> ChannelGroup {
        try #require(groups.groups.first { $0.name == name }, "\(groups.groups.map { ($0.name, $0.size, $0.reason ?? "") })")
    }

    func roles(_ groups: ChannelGroups, _ g: ChannelGroup) -> Set<String> {
        let members = Set(g.channels)
        return Set(groups.sites.filter { $0.channels.contains { members.contains($0) } }.map { "\($0.tensor)#\($0.axis) \($0.role)" })
    }

    @Test func blocksFormTheirGroupsThroughChannelsLast() throws {
        let groups = ChannelGroups.analyze(Self.tinyConvNeXt())
        let stream = try group(groups, "stem+b1.pwconv2.matmul"), hidden = try group(groups, "b1.pwconv1.matmul")
        #expect(stream.prunable && stream.size == 8)
        #expect(hidden.prunable && hidden.size == 32)
        #expect(try group(groups, "down+b2.pwconv2.matmul").prunable)
        #expect(try group(groups, "b2.pwconv1.matmul").prunable)
        #expect(groups.prunable.count == 4, "\(groups.groups.map { ($0.name, $0.reason ?? "") })")
        #expect(roles(groups, stream) == [
            "stem.weight#0 producer", "stem.bias#0 perChannel", "stem.norm.weight#0 perChannel", "stem.norm.bias#0 perChannel",
            "b1.dwconv.weight#0 producer", "b1.dwconv.bias#0 perChannel", "b1.norm.weight#0 perChannel", "b1.norm.bias#0 perChannel",
            "b1.pwconv1.weight_t#0 consumer", "b1.pwconv2.weight_t#1 producer", "b1.pwconv2.bias#0 perChannel",
            "b1.layer_scale#0 perChannel", "down.norm.weight#0 perChannel", "down.norm.bias#0 perChannel", "down.weight#1 consumer",
        ])
        #expect(roles(groups, hidden) == ["b1.pwconv1.weight_t#1 producer", "b1.pwconv1.bias#0 perChannel", "b1.pwconv2.weight_t#0 consumer"])
        // Positions line up: the linear reads the stream's channels in the conv's order.
        let rows = try #require(groups.sites.first { $0.tensor == "b1.pwconv1.weight_t" && $0.axis == 0 })
        #expect(rows.channels == stream.channels)
    }

    /// One op after a Transpose to channels last: the analysis pins what it cannot follow.
    func pinnedReason(after build: (inout GraphBuilder, String) -> String) throws -> String {
        var b = GraphBuilder(name: "pin", seed: 3)
        let h = b.transpose(b.conv(b.input("input", shape: [1, 3, 6, 6]), out: 4, kernel: 3, name: "c"), perm: [0, 2, 3, 1])
        let y = build(&b, h)
        b.output(y)
        let c = try group(ChannelGroups.analyze(b.graph), "c")
        #expect(!c.prunable)
        return c.reason ?? ""
    }

    @Test func whatChannelsLastCannotPassIsPinnedWithAReason() throws {
        let normOverTwoAxes = try pinnedReason { b, h in
            b.node("LayerNormalization", [h, b.constant("s", Tensor(shape: [6, 4], floats: Array(repeating: 1, count: 24)))],
                   outputShape: b.shape(h), attributes: [Attribute("axis", .int(2))], name: "ln")
        }
        #expect(normOverTwoAxes.contains("LayerNormalization 'ln' normalizes over axes 2..<4"), "\(normOverTwoAxes)")
        let pool = try pinnedReason { b, h in b.node("MaxPool", [h], outputShape: [1, 6, 6, 4], attributes: [
            Attribute("kernel_shape", .ints([1, 1])),
        ], name: "pool") }
        #expect(pool.contains("MaxPool 'pool' reads channels laid out last"), "\(pool)")
        let sideways = try pinnedReason { b, h in b.transpose(h, perm: [0, 1, 3, 2]) }
        #expect(sideways.contains("moves the channels from axis 3"), "\(sideways)")
        // A MatMul contracting an axis that is not the channels' (NCHW, over W).
        var b = GraphBuilder(name: "w", seed: 4)
        let x = b.conv(b.input("input", shape: [1, 3, 6, 6]), out: 4, kernel: 3, name: "c")
        b.output(b.node("MatMul", [x, b.constant("m", Tensor(shape: [6, 5], floats: Array(repeating: 1, count: 30)))],
                        outputShape: [1, 4, 6, 5], name: "mm"))
        let reason = try group(ChannelGroups.analyze(b.graph), "c").reason ?? ""
        #expect(reason.contains("MatMul 'mm' contracts axis 3, but the channels are on axis 1"), "\(reason)")
    }

    @Test func removingZeroedHiddenChannelsLeavesTheOutputUnchanged() throws {
        var g = Self.tinyConvNeXt()
        let groups = ChannelGroups.analyze(g)
        var removal: [Int: [Int]] = [:]
        for name in ["b1.pwconv1.matmul", "b2.pwconv1.matmul"] {
            let id = try group(groups, name).id
            removal[id] = [0, 5, 6, 17, 31]
            g = SurgeryForwardTests().zeroing(g, groups, group: id, channels: removal[id]!)
        }
        let pruned = try g.removingChannels(removal, groups: groups)
        #expect(pruned.initializers["b1.pwconv1.weight_t"]?.shape == [8, 27])
        #expect(pruned.initializers["b2.pwconv2.weight_t"]?.shape == [59, 16])
        let x = Tensor(shape: [2, 3, 8, 8], floats: KernelFixtures.values(384, seed: 7))
        let out = g.outputs[0].name
        let before = try Interpreter().run(g, inputs: ["input": x])[out]!.floats()
        let after = try Interpreter().run(pruned, inputs: ["input": x])[out]!.floats()
        #expect(before.count == 12 && after.count == 12)
        #expect(KernelFixtures.maxDifference(before, after) <= 1e-5 * max(1, before.map(abs).max() ?? 1))
    }

    /// The stream's LayerNorm after pruning normalizes over the kept channels, with their scale
    /// and bias: recomputed here from the original conv output.
    @Test func prunedLayerNormNormalizesTheKeptChannels() throws {
        let g = Self.tinyConvNeXt()
        let groups = ChannelGroups.analyze(g)
        let stream = try group(groups, "stem+b1.pwconv2.matmul")
        let removed = [1, 4, 7]
        let pruned = try g.removingChannels([stream.id: removed], groups: groups)
        let kept = (0..<8).filter { !removed.contains($0) }
        #expect(pruned.initializers["stem.norm.weight"]?.floats() == kept.map { g.initializers["stem.norm.weight"]!.floats()[$0] })
        #expect(pruned.initializers["b1.pwconv2.weight_t"]?.shape == [32, 5] && pruned.initializers["down.weight"]?.shape == [16, 5, 2, 2])

        let norm = try #require(g.nodes.first { $0.name == "stem.norm" })
        let x = Tensor(shape: [2, 3, 8, 8], floats: KernelFixtures.values(384, seed: 8))
        let stem = try #require(g.nodes.first { $0.name == "stem" }).outputs[0]
        let conv = try #require(try Interpreter().run(g, inputs: ["input": x], fetching: [stem])[stem]).floats()
        let y = try #require(try Interpreter().run(pruned, inputs: ["input": x], fetching: [norm.outputs[0]])[norm.outputs[0]])
        #expect(y.shape == [2, 8, 8, 5])
        let gamma = g.initializers["stem.norm.weight"]!.floats(), beta = g.initializers["stem.norm.bias"]!.floats()
        var worst: Float = 0
        for n in 0..<2 {
            for p in 0..<64 {
                let v = kept.map { conv[(n * 8 + $0) * 64 + p] }
                let mean = v.reduce(0, +) / 5
                let variance = v.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 5
                for (j, c) in kept.enumerated() {
                    let expected = (v[j] - mean) / (variance + 1e-6).squareRoot() * gamma[c] + beta[c]
                    worst = max(worst, abs(expected - y.floats()[(n * 64 + p) * 5 + j]))
                }
            }
        }
        #expect(worst <= 1e-4)
    }

    /// conv → pool → (Reshape [-1] → Gather of 0..<n in the pooled shape, as PyTorch's
    /// `as_strided` exports) → LayerNorm2d → linear, at batch 1.
    static func pooledNorm(asStrided: Bool) -> Graph {
        var b = GraphBuilder(name: "pooled", seed: 12)
        var h = b.globalAveragePool(b.conv(b.input("input", shape: [1, 3, 6, 6]), out: 4, kernel: 3, name: "c"))
        if asStrided {
            let flat = b.node("Reshape", [h, b.constant("flat", Tensor(shape: [1], int64s: [-1]))], outputShape: [4])
            h = b.node("Gather", [flat, b.constant("strided", Tensor(shape: [1, 4, 1, 1], int64s: [0, 1, 2, 3]))],
                       outputShape: [1, 4, 1, 1], name: "gather")
        }
        h = b.transpose(b.layerNorm(b.transpose(h, perm: [0, 2, 3, 1]), name: "norm"), perm: [0, 3, 1, 2])
        // Flattened as the dynamo exporter writes it, with the batch of 1 in the target.
        let flat = b.node("Reshape", [h, b.constant("view", Tensor(shape: [2], int64s: [1, 4]))], outputShape: [1, 4],
                          attributes: [Attribute("allowzero", .int(1))])
        b.output(b.linear(flat, out: 3, name: "head"))
        return b.graph
    }

    @Test func asStridedIdentityPassesChannelsAndFollowsThePruning() throws {
        var results: [[Float]] = []
        for asStrided in [true, false] {
            let g = Self.pooledNorm(asStrided: asStrided)
            let groups = ChannelGroups.analyze(g)
            let c = try group(groups, "c")
            #expect(c.prunable, "\(c.reason ?? "")")
            let pruned = try g.removingChannels([c.id: [2]], groups: groups)
            if asStrided {
                let gather = try #require(pruned.nodes.first { $0.name == "gather" })
                let indices = try #require(pruned.initializers[gather.inputs[1]])
                #expect(indices.shape == [1, 3, 1, 1] && indices.int64s() == [0, 1, 2])
            }
            let x = Tensor(shape: [1, 3, 6, 6], floats: KernelFixtures.values(108, seed: 2))
            results.append(try #require(try Interpreter().run(pruned, inputs: ["input": x])[pruned.outputs[0].name]).floats())
        }
        #expect(results[0].count == 3 && results[0] == results[1])
    }

    /// Channels-last moments of a transposed array equal the NCHW moments of the original.
    @Test func channelMomentsReadTheLastAxis() throws {
        let v = KernelFixtures.values(2 * 3 * 4, seed: 5)
        let nchw = try NDArray(shape: [2, 3, 4], storage: v)
        // nlc[n][l][c] = nchw[n][c][l].
        var transposed = [Float](repeating: 0, count: 24)
        for n in 0..<2 { for l in 0..<4 { for c in 0..<3 { transposed[(n * 4 + l) * 3 + c] = v[(n * 3 + c) * 4 + l] } } }
        let nlc = try NDArray(shape: [2, 4, 3], storage: transposed)
        var a = ChannelMoments(channels: 3), b = ChannelMoments(channels: 3, channelsLast: true)
        a.add(nchw)
        b.add(nlc)
        #expect(zip(a.mean, b.mean).allSatisfy { abs($0 - $1) < 1e-12 } && zip(a.variance, b.variance).allSatisfy { abs($0 - $1) < 1e-12 })
        // By hand: channel 0 of sample 0 is v[0..<4], of sample 1 v[12..<16].
        let c0: [Float] = Array(v[0..<4]) + Array(v[12..<16])
        let mean0 = c0.reduce(0.0) { $0 + Double($1) } / 8
        #expect(abs(b.mean[0] - mean0) < 1e-9)
    }
}
