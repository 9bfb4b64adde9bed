import Testing
@testable import PruneKit

@Suite struct ForwardTests {
    static func node(_ op: String, _ inputs: [String], _ outputs: [String], name: String = "",
                     _ attributes: [Attribute] = []) -> Node {
        Node(name: name, opType: op, inputs: inputs, outputs: outputs, attributes: attributes)
    }

    static func tensor(_ shape: [Int], _ values: [Float]) -> Tensor { Tensor(shape: shape, floats: values) }

    static func opset(_ version: Int) -> ModelInfo {
        var info = ModelInfo()
        info.opsets = [Opset(domain: "", version: version)]
        return info
    }

    /// conv → BN → relu → GAP → flatten → gemm, nodes listed out of order.
    static func smallNet(x: [Int], weights: [(String, Tensor)], convAttributes: [Attribute] = []) -> Graph {
        let nodes = [
            node("Gemm", ["flat", "fc.w", "fc.b"], ["logits"], name: "fc", [Attribute("transB", .int(1))]),
            node("Relu", ["bn_out"], ["relu_out"], name: "relu"),
            node("Flatten", ["pooled"], ["flat"], name: "flatten"),
            node("Conv", ["x", "conv.w", "conv.b"], ["conv_out"], name: "conv", convAttributes),
            node("GlobalAveragePool", ["relu_out"], ["pooled"], name: "gap"),
            node("BatchNormalization", ["conv_out", "bn.scale", "bn.bias", "bn.mean", "bn.var"], ["bn_out"], name: "bn",
                 [Attribute("epsilon", .float(1))]),
        ]
        return Graph(nodes: nodes, initializers: weights,
                     inputs: [ValueInfo(name: "x", shape: x.map { Dim.fixed($0) })],
                     outputs: [ValueInfo(name: "logits", shape: nil)])
    }

    @Test func handComputedChain() throws {
        let graph = Self.smallNet(x: [1, 1, 2, 2], weights: [
            ("conv.w", Self.tensor([1, 1, 1, 1], [2])), ("conv.b", Self.tensor([1], [1])),
            ("bn.scale", Self.tensor([1], [0.5])), ("bn.bias", Self.tensor([1], [1])),
            ("bn.mean", Self.tensor([1], [1])), ("bn.var", Self.tensor([1], [3])),
            ("fc.w", Self.tensor([2, 1], [2, -1])), ("fc.b", Self.tensor([2], [0.5, 0.5])),
        ])
        let x = Self.tensor([1, 1, 2, 2], [1, -2, 3, -4])
        let out = try Interpreter().run(graph, inputs: ["x": x], fetching: ["logits", "conv_out", "bn_out", "pooled"])
        // conv: 2x + 1; BN: 0.5·(v − 1)/2 + 1; relu; mean; [2, −1]·m + 0.5.
        #expect(out["conv_out"]?.floats() == [3, -3, 7, -7])
        #expect(out["bn_out"]?.floats() == [1.5, 0, 2.5, -1])
        #expect(out["pooled"]?.floats() == [1])
        #expect(out["logits"]?.shape == [1, 2])
        #expect(out["logits"]?.floats() == [2.5, -0.5])
        #expect(out["logits"]?.dtype == .f32)
    }

    @Test func matchesKernelsComposedDirectly() throws {
        let w = KernelFixtures.random([4, 3, 3, 3], seed: 61)
        let b = KernelFixtures.random([4], seed: 62)
        let scale = KernelFixtures.random([4], seed: 63)
        let shift = KernelFixtures.random([4], seed: 64)
        let mean = KernelFixtures.random([4], seed: 65)
        let variance = try NDArray(shape: [4], storage: KernelFixtures.values(4, seed: 66).map { $0 * $0 + 0.1 })
        let fcW = KernelFixtures.random([5, 4], seed: 67)
        let fcB = KernelFixtures.random([5], seed: 68)
        let graph = Self.smallNet(
            x: [2, 3, 8, 8],
            weights: [("conv.w", Tensor(w)), ("conv.b", Tensor(b)), ("bn.scale", Tensor(scale)), ("bn.bias", Tensor(shift)),
                      ("bn.mean", Tensor(mean)), ("bn.var", Tensor(variance)), ("fc.w", Tensor(fcW)), ("fc.b", Tensor(fcB))],
            convAttributes: [Attribute("strides", .ints([2, 2])), Attribute("pads", .ints([1, 1, 1, 1])),
                             Attribute("kernel_shape", .ints([3, 3]))])
        let x = KernelFixtures.random([2, 3, 8, 8], seed: 60)

        let conv = try conv2d(x, weight: w, bias: b, Conv2DParameters(strides: [2, 2], pads: [1, 1, 1, 1]))
        let bn = try batchNormalization(conv, scale: scale, bias: shift, mean: mean, variance: variance, epsilon: 1)
        let relu = bn.applying(.relu)
        let flat = try globalPool(relu).flattened()
        let logits = try gemm(flat, fcW, c: fcB, transB: true)

        let out = try Interpreter().run(graph, inputs: ["x": Tensor(x)], fetching: ["logits", "relu_out"])
        #expect(out["relu_out"] == Tensor(relu))
        #expect(out["logits"] == Tensor(logits))
        #expect(try Interpreter().run(graph, inputs: ["x": Tensor(x)]).keys.sorted() == ["logits"])
    }

    /// What `x.view(x.size(0), -1)` exports to: Shape → Gather → Unsqueeze → Concat → Reshape.
    @Test(arguments: [11, 13])
    func pytorchDynamicFlatten(opset: Int) throws {
        let axes = Attribute("axes", .ints([0]))
        let nodes = [
            Self.node("Reshape", ["x", "target"], ["y"]),
            Self.node("Concat", ["batch1", "minus1"], ["target"], [Attribute("axis", .int(0))]),
            Self.node("Constant", [], ["minus1"], [Attribute("value", .tensor(Tensor(shape: [1], int64s: [-1])))]),
            Self.node("Constant", [], ["zero"], [Attribute("value", .tensor(Tensor(shape: [], int64s: [0])))]),
            Self.node("Shape", ["x"], ["shape"]),
            Self.node("Gather", ["shape", "zero"], ["batch"], [Attribute("axis", .int(0))]),
            opset >= 13 ? Self.node("Unsqueeze", ["batch", "axes"], ["batch1"])
                : Self.node("Unsqueeze", ["batch"], ["batch1"], [axes]),
        ]
        let graph = Graph(nodes: nodes, initializers: opset >= 13 ? [("axes", Tensor(shape: [1], int64s: [0]))] : [],
                          inputs: [ValueInfo(name: "x", shape: [.symbolic("N"), .fixed(3), .fixed(2), .fixed(2)])],
                          outputs: [ValueInfo(name: "y", shape: nil)], model: Self.opset(opset))
        let x = Tensor(KernelFixtures.random([2, 3, 2, 2], seed: 70))
        let out = try Interpreter().run(graph, inputs: ["x": x], fetching: ["y", "target"])
        #expect(out["y"]?.shape == [2, 12])
        #expect(out["y"]?.data == x.data)
        #expect(out["target"] == Tensor(shape: [2], int64s: [2, -1]))
    }

    @Test(arguments: [11, 13])
    func softmaxFollowsOpset(opset: Int) throws {
        let graph = Graph(nodes: [Self.node("Softmax", ["x"], ["y"], [Attribute("axis", .int(1))])],
                          inputs: [ValueInfo(name: "x", shape: nil)], outputs: [ValueInfo(name: "y", shape: nil)],
                          model: Self.opset(opset))
        let x = KernelFixtures.random([2, 3, 4], seed: 71)
        let y = try Interpreter().run(graph, inputs: ["x": Tensor(x)])["y"]
        #expect(y == Tensor(try softmax(x, axis: 1, coerceTo2D: opset < 13)))
    }

    @Test func inferenceOnlyOpsAndOptionalInputs() throws {
        let nodes = [
            Self.node("Dropout", ["x"], ["d", "mask"]),
            Self.node("Identity", ["d"], ["i"]),
            Self.node("Clip", ["i", "", "hi"], ["clipped"]),
            Self.node("Clip", ["i"], ["legacy"], [Attribute("min", .float(-0.5)), Attribute("max", .float(0.5))]),
            Self.node("Add", ["clipped", "legacy"], ["sum"]),
        ]
        let graph = Graph(nodes: nodes, initializers: [("hi", Tensor(shape: [], floats: [0.25]))],
                          inputs: [ValueInfo(name: "x", shape: nil)], outputs: [ValueInfo(name: "sum", shape: nil)])
        let out = try Interpreter().run(graph, inputs: ["x": Self.tensor([4], [-1, 0, 0.3, 2])], fetching: ["sum", "mask"])
        #expect(out["sum"]?.floats() == [-1.5, 0, 0.55, 0.75])
        #expect(out["mask"]?.dtype == .bool)
        #expect(out["mask"]?.floats() == [1, 1, 1, 1])
    }

    @Test func oneDimensionalConvAndPool() throws {
        let x = KernelFixtures.random([1, 2, 9], seed: 72)
        let w = KernelFixtures.random([3, 2, 3], seed: 73)
        let nodes = [
            Self.node("Conv", ["x", "w"], ["c"], [Attribute("pads", .ints([1, 1])), Attribute("dilations", .ints([2]))]),
            Self.node("MaxPool", ["c"], ["y"], [Attribute("kernel_shape", .ints([2])), Attribute("strides", .ints([2]))]),
        ]
        let graph = Graph(nodes: nodes, initializers: [("w", Tensor(w))], inputs: [ValueInfo(name: "x", shape: nil)],
                          outputs: [ValueInfo(name: "y", shape: nil)])
        let y = try Interpreter().run(graph, inputs: ["x": Tensor(x)])["y"]
        let c2 = try conv2d(x.reshaped(uncheckedTo: [1, 2, 1, 9]), weight: w.reshaped(uncheckedTo: [3, 2, 1, 3]), bias: nil,
                            Conv2DParameters(pads: [0, 1, 0, 1], dilations: [1, 2]))
        let (y2, _) = try maxPool2d(c2, Pool2DParameters(kernel: [1, 2], strides: [1, 2]))
        #expect(y?.shape == [1, 3, 3])
        #expect(y?.floats() == y2.storage)
    }

    @Test func halfPrecisionWeightsComputeInF32() throws {
        let graph = Graph(nodes: [Self.node("MatMul", ["x", "w"], ["y"])],
                          initializers: [("w", Tensor(shape: [2, 1], floats: [0.5, -2], dtype: .f16))],
                          inputs: [ValueInfo(name: "x", shape: nil)], outputs: [ValueInfo(name: "y", shape: nil)])
        let y = try Interpreter().run(graph, inputs: ["x": Tensor(shape: [1, 2], floats: [4, 1], dtype: .bf16)])["y"]
        #expect(y == Self.tensor([1, 1], [0]))
    }

    @Test func onlyNeededNodesRun() throws {
        let nodes = [
            Self.node("Relu", ["x"], ["a"]),
            Self.node("NotAnOp", ["x"], ["b"], name: "exotic"),
        ]
        let graph = Graph(nodes: nodes, inputs: [ValueInfo(name: "x", shape: nil)],
                          outputs: [ValueInfo(name: "a", shape: nil), ValueInfo(name: "b", shape: nil)])
        let x = Self.tensor([2], [-1, 1])
        #expect(try Interpreter().run(graph, inputs: ["x": x], fetching: ["a"])["a"]?.floats() == [0, 1])
        #expect(throws: ForwardError.unsupportedOp(node: "exotic", opType: "NotAnOp", domain: "")) {
            try Interpreter().run(graph, inputs: ["x": x])
        }
    }

    @Test func errorsNameTheNodeAndOp() throws {
        let graph = Self.smallNet(x: [1, 2, 4, 4], weights: [
            ("conv.w", Tensor(KernelFixtures.random([2, 3, 3, 3], seed: 1))), ("conv.b", Self.tensor([2], [0, 0])),
        ])
        let x = Tensor(KernelFixtures.random([1, 2, 4, 4], seed: 2))
        do {
            _ = try Interpreter().run(graph, inputs: ["x": x], fetching: ["conv_out"])
            Issue.record("a conv with 3 weight channels on a 2-channel input ran")
        } catch let ForwardError.nodeFailed(node, op, reason) {
            #expect(node == "conv")
            #expect(op == "Conv")
            guard case .shape = reason else { Issue.record("expected a shape error, got \(reason)"); return }
        }
        #expect(throws: ForwardError.missingInput("x")) { try Interpreter().run(graph, inputs: [:], fetching: ["conv_out"]) }
        #expect(throws: ForwardError.unexpectedInput("y")) { try Interpreter().run(graph, inputs: ["x": x, "y": x]) }
        #expect(throws: ForwardError.unknownValue("nope")) { try Interpreter().run(graph, inputs: ["x": x], fetching: ["nope"]) }
        let wrong = Tensor(KernelFixtures.random([1, 2, 4, 5], seed: 2))
        #expect(throws: ForwardError.inputShape(name: "x", declared: [.fixed(1), .fixed(2), .fixed(4), .fixed(4)], actual: [1, 2, 4, 5])) {
            try Interpreter().run(graph, inputs: ["x": wrong], fetching: ["conv_out"])
        }
        // This graph has no BN statistics or fc weights; the first missing one read is named before anything runs.
        #expect(throws: ForwardError.undefinedValue(node: "fc", opType: "Gemm", value: "fc.w")) {
            try Interpreter().run(graph, inputs: ["x": x])
        }
        #expect(throws: ForwardError.undefinedValue(node: "bn", opType: "BatchNormalization", value: "bn.scale")) {
            try Interpreter().run(graph, inputs: ["x": x], fetching: ["bn_out"])
        }
    }

    /// Attributes and tensors a hostile or broken file could carry: each fails its node, none traps.
    @Test func hostileValuesThrow() throws {
        func failsAtNode(_ node: Node, inputs: [String: Tensor] = ["x": ForwardTests.tensor([1, 1, 2, 2], [1, 2, 3, 4])],
                         initializers: [(String, Tensor)] = []) -> Bool {
            let graph = Graph(nodes: [node], initializers: initializers, inputs: [ValueInfo(name: "x", shape: nil)],
                              outputs: [ValueInfo(name: "y", shape: nil)])
            do {
                _ = try Interpreter().run(graph, inputs: inputs)
                return false
            } catch let ForwardError.nodeFailed(name, _, _) {
                return name == node.label
            } catch {
                return false
            }
        }
        #expect(failsAtNode(Self.node("MaxPool", ["x"], ["y"], name: "p", [
            Attribute("kernel_shape", .ints([1, 1])), Attribute("pads", .ints([1 << 40, 0, 1 << 40, 0])),
        ])))
        #expect(failsAtNode(Self.node("AveragePool", ["x"], ["y"], name: "p", [
            Attribute("kernel_shape", .ints([1, 1])), Attribute("pads", .ints([1 << 20, 1 << 20, 1 << 20, 1 << 20])),
        ])))
        #expect(failsAtNode(Self.node("ConstantOfShape", ["shape"], ["y"], name: "c"),
                            initializers: [("shape", Tensor(shape: [2], int64s: [1 << 40, 1 << 40]))]))
        #expect(failsAtNode(Self.node("ConstantOfShape", ["shape"], ["y"], name: "c"),
                            initializers: [("shape", Tensor(shape: [1], int64s: [-3]))]))
        #expect(failsAtNode(Self.node("Expand", ["x", "shape"], ["y"], name: "e"),
                            initializers: [("shape", Tensor(shape: [1], int64s: [-1]))]))
        #expect(failsAtNode(Self.node("Reshape", ["x", "shape"], ["y"], name: "r"),
                            initializers: [("shape", Tensor(shape: [2], int64s: [3, -1]))]))
        #expect(failsAtNode(Self.node("Gather", ["x", "i"], ["y"], name: "g"),
                            initializers: [("i", Tensor(shape: [1], int64s: [Int64.min]))]))
        #expect(failsAtNode(Self.node("Conv", ["x", "w"], ["y"], name: "c", [Attribute("auto_pad", .string("SAME"))]),
                            initializers: [("w", Tensor(shape: [1, 1, 1, 1], floats: [1]))]))

        let slice = Graph(nodes: [Self.node("Slice", ["x", "s", "e", "a", "st"], ["y"])],
                          initializers: [("s", Tensor(shape: [1], int64s: [Int64.max])), ("e", Tensor(shape: [1], int64s: [Int64.min])),
                                         ("a", Tensor(shape: [1], int64s: [-1])), ("st", Tensor(shape: [1], int64s: [Int64.min]))],
                          inputs: [ValueInfo(name: "x", shape: nil)], outputs: [ValueInfo(name: "y", shape: nil)])
        let sliced = try Interpreter().run(slice, inputs: ["x": Self.tensor([1, 1, 2, 2], [1, 2, 3, 4])])["y"]
        #expect(sliced?.shape == [1, 1, 2, 1])
        #expect(sliced?.floats() == [2, 4])

        var broken = Self.tensor([2, 2], [1, 2, 3, 4])
        broken.shape = [3, 3]
        let identity = Graph(nodes: [Self.node("Identity", ["x"], ["y"])], inputs: [ValueInfo(name: "x", shape: nil)],
                             outputs: [ValueInfo(name: "y", shape: nil)])
        #expect {
            try Interpreter().run(identity, inputs: ["x": broken])
        } throws: { error in
            if case ForwardError.invalidTensor(name: "x", reason: _) = error { return true }
            return false
        }
    }

    @Test func cyclesAreReported() {
        let graph = Graph(nodes: [Self.node("Relu", ["b"], ["a"], name: "r1"), Self.node("Relu", ["a"], ["b"], name: "r2")],
                          outputs: [ValueInfo(name: "a", shape: nil)])
        #expect(throws: ForwardError.cycle(nodes: ["r1", "r2"])) { try Interpreter().run(graph, inputs: [:]) }
    }

    @Test func everySupportedOpRejectsMissingInputsWithAnError() {
        for op in Interpreter.supportedOps.sorted() {
            let graph = Graph(nodes: [Self.node(op, [], ["y"], name: "n")], outputs: [ValueInfo(name: "y", shape: nil)])
            #expect(throws: ForwardError.self) { try Interpreter().run(graph, inputs: [:]) }
            do {
                _ = try Interpreter().run(graph, inputs: [:])
            } catch let ForwardError.nodeFailed(node, opType, _) {
                #expect(node == "n" && opType == op)
            } catch {
                Issue.record("\(op): \(error)")
            }
        }
    }
}
