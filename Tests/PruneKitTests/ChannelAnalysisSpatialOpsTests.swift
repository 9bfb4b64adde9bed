import Testing
@testable import PruneKit

/// Resize, Upsample, Pad, InstanceNormalization, Pow and the smooth activations between two
/// convs: which attribute combinations let the first conv's channels through, and which pin them.
@Suite struct ChannelAnalysisSpatialOpsTests {
    static func floats(_ shape: [Int], _ v: [Float]) -> Tensor { Tensor(shape: shape, floats: v) }
    static func ints(_ v: [Int64]) -> Tensor { Tensor(shape: [v.count], int64s: v) }
    static func s(_ name: String, _ v: String) -> Attribute { Attribute(name, .string(v)) }

    /// input [1, 3, 8, 8] → conv "first" (4 channels) → `middle` → conv "second" → output;
    /// the analysis and the group of "first".
    func chain(opset: Int = 17, _ middle: (inout GraphBuilder, String) -> String) throws -> (ChannelGroups, ChannelGroup, Graph) {
        var b = GraphBuilder(name: "chain", seed: 3)
        let x = b.input("input", shape: [1, 3, 8, 8])
        let first = b.conv(x, out: 4, kernel: 3, name: "first")
        let y = b.conv(middle(&b, first), out: 3, kernel: 3, name: "second")
        b.output(y)
        var g = b.graph
        g.model.opsets = [Opset(domain: "", version: opset)]
        let groups = ChannelGroups.analyze(g)
        return (groups, try #require(groups.groups.first { $0.name == "first" }), g)
    }

    func resize(_ b: inout GraphBuilder, _ x: String, scales: [Float], out: [Int], attributes: [Attribute] = [Self.s("mode", "linear")]) -> String {
        let sc = b.constant("scales_\(out)", Self.floats([scales.count], scales))
        return b.node("Resize", [x, "", sc], outputShape: out, attributes: attributes)
    }

    @Test func convResizeConvPrunesTheFirstConv() throws {
        let (_, group, g) = try chain { b, x in resize(&b, x, scales: [1, 1, 2, 2], out: [1, 4, 16, 16]) }
        #expect(group.prunable, "\(group.reason ?? "")")
        #expect(ShapeInference(graph: g).shape(g.nodes[1].outputs[0]) == [1, 4, 16, 16])
    }

    @Test func resizeScalingTheChannelAxisPins() throws {
        let (_, group, _) = try chain { b, x in resize(&b, x, scales: [1, 2, 1, 1], out: [1, 8, 8, 8]) }
        #expect(!group.prunable && group.reason?.contains("scales the channel axis") == true, "\(group.reason ?? "")")
    }

    @Test func resizeCropAndResizePins() throws {
        let (_, group, _) = try chain { b, x in
            resize(&b, x, scales: [1, 1, 2, 2], out: [1, 4, 16, 16],
                   attributes: [Self.s("mode", "linear"), Self.s("coordinate_transformation_mode", "tf_crop_and_resize")])
        }
        #expect(!group.prunable && group.reason?.contains("tf_crop_and_resize") == true)
    }

    @Test func resizeSizesMustKeepTheChannelCount() throws {
        let (_, kept, _) = try chain { b, x in
            b.node("Resize", [x, "", "", b.constant("sizes", Self.ints([1, 4, 4, 4]))], outputShape: [1, 4, 4, 4], attributes: [Self.s("mode", "nearest")])
        }
        #expect(kept.prunable)
        let (_, changed, _) = try chain { b, x in
            b.node("Resize", [x, "", "", b.constant("sizes", Self.ints([1, 2, 4, 4]))], outputShape: [1, 2, 4, 4], attributes: [Self.s("mode", "nearest")])
        }
        #expect(!changed.prunable && changed.reason?.contains("resizes the channel axis") == true)
    }

    /// Sizes built at run time from Shape → Slice → Concat follow the input they read; read
    /// from another tensor, they cannot be followed.
    @Test func resizeSizesFromShapeFollowOnlyTheirOwnInput() throws {
        func sizes(_ b: inout GraphBuilder, of source: String) -> String {
            let shape = b.node("Shape", [source], outputShape: [4])
            let head = b.node("Slice", [shape, b.constant("s0", Self.ints([0])), b.constant("s2", Self.ints([2]))], outputShape: [2])
            return b.node("Concat", [head, b.constant("hw", Self.ints([16, 16]))], outputShape: [4], attributes: [Attribute("axis", .int(0))])
        }
        let (_, own, _) = try chain { b, x in
            b.node("Resize", [x, "", "", sizes(&b, of: x)], outputShape: [1, 4, 16, 16], attributes: [Self.s("mode", "nearest")])
        }
        #expect(own.prunable, "\(own.reason ?? "")")
        let (_, other, _) = try chain { b, x in
            let input = b.graph.inputs[0].name
            let wide = b.conv(input, out: 4, kernel: 1, name: "other")
            return b.node("Resize", [x, "", "", sizes(&b, of: wide)], outputShape: [1, 4, 16, 16], attributes: [Self.s("mode", "nearest")])
        }
        #expect(!other.prunable && other.reason?.contains("cannot follow") == true, "\(other.reason ?? "")")
    }

    @Test func upsampleWithScalesPassesChannels() throws {
        let (_, group, _) = try chain(opset: 9) { b, x in
            b.node("Upsample", [x, b.constant("up", Self.floats([4], [1, 1, 2, 2]))], outputShape: [1, 4, 16, 16])
        }
        #expect(group.prunable)
    }

    @Test func padOnlyOnSpatialAxesPassesChannels() throws {
        let (_, spatial, _) = try chain { b, x in
            b.node("Pad", [x, b.constant("pads", Self.ints([0, 0, 1, 2, 0, 0, 2, 1]))], outputShape: [1, 4, 11, 11], attributes: [Self.s("mode", "reflect")])
        }
        #expect(spatial.prunable)
        let (_, channel, _) = try chain { b, x in
            b.node("Pad", [x, b.constant("pads", Self.ints([0, 1, 0, 0, 0, 0, 0, 0]))], outputShape: [1, 5, 8, 8])
        }
        #expect(!channel.prunable && channel.reason?.contains("pads the channel axis") == true, "\(channel.reason ?? "")")
        #expect(channel.reason?.contains("Pad 'pad_") == true)
    }

    /// PyTorch's F.pad export computes pads from constants (ConstantOfShape → Concat → Reshape →
    /// reversed Slice → Transpose → Reshape → Cast); shape inference folds the chain.
    @Test func padWithPadsBuiltTheWayPyTorchExportsThem() throws {
        let (groups, group, g) = try chain { b, x in
            let zeros = b.node("ConstantOfShape", [b.constant("four", Self.ints([4]))], outputShape: [4],
                               attributes: [Attribute("value", .tensor(Tensor(shape: [1], int64s: [0])))])
            let all = b.node("Concat", [b.constant("given", Self.ints([1, 2, 2, 1])), zeros], outputShape: [8], attributes: [Attribute("axis", .int(0))])
            let pairs = b.node("Reshape", [all, b.constant("pairs", Self.ints([-1, 2]))], outputShape: [4, 2])
            let reversed = b.node("Slice", [pairs, b.constant("start", Self.ints([-1])), b.constant("end", Self.ints([-9_223_372_036_854_775_807])),
                                            b.constant("axis0", Self.ints([0])), b.constant("back", Self.ints([-1]))], outputShape: [4, 2])
            let flat = b.node("Reshape", [b.node("Transpose", [reversed], outputShape: [2, 4], attributes: [Attribute("perm", .ints([1, 0]))]),
                                          b.constant("flat", Self.ints([-1]))], outputShape: [8])
            let pads = b.node("Cast", [flat], outputShape: [8], attributes: [Attribute("to", .int(7))])
            return b.node("Pad", [x, pads], outputShape: [1, 4, 11, 11], attributes: [Self.s("mode", "reflect")])
        }
        #expect(group.prunable, "\(group.reason ?? "")")
        // The chain's own nodes (a Transpose of integers) are no group the user is told is pinned.
        #expect(groups.groups.allSatisfy { $0.prunable || ChannelGroup.isBoundary(reason: $0.reason ?? "") }, "\(groups.groups)")
        // F.pad (1, 2, 2, 1) is (left, right, top, bottom): H gets 2 + 1, W gets 1 + 2.
        #expect(ShapeInference(graph: g).shape(g.nodes.first { $0.opType == "Pad" }!.outputs[0]) == [1, 4, 11, 11])
    }

    @Test func instanceNormalizationParametersFollowTheChannels() throws {
        let (groups, group, _) = try chain { b, x in
            let scale = b.constant("norm.weight", Self.floats([4], [1, 2, 3, 4])), bias = b.constant("norm.bias", Self.floats([4], [0, 0, 0, 0]))
            return b.node("InstanceNormalization", [x, scale, bias], outputShape: [1, 4, 8, 8])
        }
        #expect(group.prunable)
        for name in ["norm.weight", "norm.bias"] {
            let site = try #require(groups.sites.first { $0.tensor == name })
            #expect(site.role == .perChannel && site.axis == 0 && site.channels == group.channels)
        }
    }

    @Test func powNeedsAScalarExponent() throws {
        let (_, scalar, _) = try chain { b, x in
            b.node("Pow", [b.node("Softplus", [x], outputShape: [1, 4, 8, 8]), b.constant("two", Self.floats([], [2]))], outputShape: [1, 4, 8, 8])
        }
        #expect(scalar.prunable)
        let (_, perChannel, _) = try chain { b, x in
            b.node("Pow", [x, b.constant("e", Self.floats([4, 1, 1], [1, 2, 3, 4]))], outputShape: [1, 4, 8, 8])
        }
        #expect(!perChannel.prunable && perChannel.reason?.contains("not a scalar") == true)
    }

    @Test(arguments: ["Softplus", "Softsign", "Mish", "Erf", "Log", "Reciprocal"])
    func elementwiseOpsPassChannels(op: String) throws {
        let (_, group, _) = try chain { b, x in b.node(op, [x], outputShape: [1, 4, 8, 8]) }
        #expect(group.prunable, "\(op): \(group.reason ?? "")")
    }
}
