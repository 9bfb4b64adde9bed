import Foundation
import Testing
@testable import PruneKit

// Bad models are built with the generated message types (internal, hence @testable) and
// serialized here, so the tests need no files and no Python.

private func tensorProto(_ name: String, _ type: Onnx_TensorProto.DataType, dims: [Int64],
                         _ fill: (inout Onnx_TensorProto) -> Void = { _ in }) -> Onnx_TensorProto {
    var t = Onnx_TensorProto()
    t.name = name
    t.dataType = Int32(type.rawValue)
    t.dims = dims
    fill(&t)
    return t
}

private func modelBytes(initializers: [Onnx_TensorProto] = [], nodes: [Onnx_NodeProto] = [],
                        _ configure: (inout Onnx_ModelProto) -> Void = { _ in }) throws -> Data {
    var m = Onnx_ModelProto()
    m.irVersion = 8
    var opset = Onnx_OperatorSetIdProto()
    opset.version = 17
    m.opsetImport = [opset]
    var g = Onnx_GraphProto()
    g.name = "g"
    g.initializer = initializers
    g.node = nodes
    m.graph = g
    configure(&m)
    return try m.serializedBytes()
}

private func attributeProto(_ name: String, _ fill: (inout Onnx_AttributeProto) -> Void) -> Onnx_AttributeProto {
    var a = Onnx_AttributeProto()
    a.name = name
    fill(&a)
    return a
}

/// A small CNN that onnxruntime runs: Conv, BatchNormalization, Relu, a Constant, Mul, an F16
/// initializer through Cast, GlobalAveragePool, Flatten, Add, Gemm, Reshape by an I64 shape.
func sampleCNN() -> Graph {
    let batch = Dim.symbolic("batch")
    func ramp(_ shape: [Int], _ scale: Float, dtype: DType = .f32) -> Tensor {
        let n = shape.reduce(1, *)
        return Tensor(shape: shape, floats: (0..<n).map { Float($0 % 7) * scale - 0.1 }, dtype: dtype)
    }
    var g = Graph(
        name: "sample_cnn",
        nodes: [
            Node(name: "conv", opType: "Conv", inputs: ["x", "conv.weight", "conv.bias"], outputs: ["c"], attributes: [
                Attribute("auto_pad", .string("NOTSET")), Attribute("dilations", .ints([1, 1])), Attribute("group", .int(1)),
                Attribute("kernel_shape", .ints([3, 3])), Attribute("pads", .ints([1, 1, 1, 1])), Attribute("strides", .ints([1, 1])),
            ]),
            Node(name: "bn", opType: "BatchNormalization", inputs: ["c", "bn.scale", "bn.bias", "bn.mean", "bn.var"], outputs: ["b"],
                 attributes: [Attribute("epsilon", .float(1e-5)), Attribute("momentum", .float(0.9))]),
            Node(name: "relu", opType: "Relu", inputs: ["b"], outputs: ["r"], docString: "activation"),
            Node(name: "half", opType: "Constant", inputs: [], outputs: ["k"],
                 attributes: [Attribute("value", .tensor(Tensor(shape: [], floats: [0.5])))]),
            Node(name: "", opType: "Mul", inputs: ["r", "k"], outputs: ["m"]),
            Node(name: "cast", opType: "Cast", inputs: ["shift.f16"], outputs: ["s"], attributes: [Attribute("to", .int(1))]),
            Node(name: "gap", opType: "GlobalAveragePool", inputs: ["m"], outputs: ["p"]),
            Node(name: "flatten", opType: "Flatten", inputs: ["p"], outputs: ["f"], attributes: [Attribute("axis", .int(1))]),
            Node(name: "add", opType: "Add", inputs: ["f", "s"], outputs: ["a"]),
            Node(name: "fc", opType: "Gemm", inputs: ["a", "fc.weight", "fc.bias"], outputs: ["y"],
                 attributes: [Attribute("alpha", .float(1)), Attribute("beta", .float(1)), Attribute("transB", .int(1))]),
            Node(name: "reshape", opType: "Reshape", inputs: ["y", "out.shape"], outputs: ["out"]),
        ],
        initializers: [
            ("conv.weight", ramp([4, 3, 3, 3], 0.05)), ("conv.bias", ramp([4], 0.1)),
            ("bn.scale", ramp([4], 0.3)), ("bn.bias", ramp([4], 0.2)), ("bn.mean", ramp([4], 0.01)),
            ("bn.var", Tensor(shape: [4], floats: [1, 2, 0.5, 1.5])),
            ("shift.f16", ramp([4], 0.25, dtype: .f16)),
            ("fc.weight", ramp([2, 4], 0.2)), ("fc.bias", ramp([2], 0.1)),
            ("out.shape", Tensor(shape: [2], int64s: [-1, 2])),
        ],
        inputs: [ValueInfo(name: "x", elementType: .f32, shape: [batch, .fixed(3), .fixed(8), .fixed(8)])],
        outputs: [ValueInfo(name: "out", elementType: .f32, shape: [batch, .fixed(2)])],
        valueInfo: [ValueInfo(name: "c", elementType: .f32, shape: [batch, .fixed(4), .unknown, .fixed(8)])])
    g.model.irVersion = 8
    g.model.opsets = [Opset(domain: "", version: 17)]
    g.model.producerName = "pruned-tests"
    g.model.producerVersion = "0.1"
    g.model.docString = "a sample CNN"
    g.model.metadata = [(key: "task", value: "demo"), (key: "author", value: "tests")]
    return g
}

@Suite struct ONNXTests {
    /// The sample plus everything the IR can hold that onnxruntime would not run: every dtype,
    /// every attribute kind, opaque attributes, values without shape or type.
    func everything() throws -> Graph {
        var g = sampleCNN()
        for dtype in DType.allCases {
            let values: [Float] = dtype == .bool ? [0, 1, 1, 0, 1, 0] : [0, 1, 2, 3, 4, 5]
            g.setInitializer("all.\(dtype.rawValue)", Tensor(shape: [2, 3], floats: values, dtype: dtype))
        }
        g.setInitializer("empty", Tensor(shape: [0, 3], floats: []))
        let subgraph = attributeProto("then_branch") { a in
            a.type = .graph
            a.g.name = "sub"
            a.g.node = [{ var n = Onnx_NodeProto(); n.opType = "Identity"; n.input = ["x"]; n.output = ["y"]; return n }()]
        }
        g.nodes.append(Node(name: "custom", opType: "Everything", domain: "test.pruned", inputs: ["x", ""], outputs: ["e1", "e2"],
                            attributes: [
                                Attribute("i", .int(-7)), Attribute("f", .float(-0.25)), Attribute("s", .string("héllo")),
                                Attribute("is", .ints([1, -2, 1 << 40])), Attribute("fs", .floats([0.5, -1e-20])),
                                Attribute("ss", .strings(["a", "", "ü"])),
                                Attribute("t", .tensor(Tensor(shape: [2], floats: [1, 2], dtype: .bf16))),
                                Attribute("then_branch", .opaque(try subgraph.serializedBytes())),
                            ]))
        g.model.opsets.append(Opset(domain: "test.pruned", version: 1))
        g.model.domain = "org.example"
        g.model.modelVersion = 3
        g.valueInfo += [ValueInfo(name: "e1", elementType: nil, shape: nil), ValueInfo(name: "e2", elementType: .i64, shape: nil),
                        ValueInfo(name: "scalar", elementType: .bool, shape: [])]
        return g
    }

    @Test func writeThenReadGivesAnEqualGraph() throws {
        let g = try everything()
        let bytes = try ONNXFile.write(g)
        let read = try ONNXFile.read(bytes)
        #expect(read == g)
        #expect(read.initializerOrder == g.initializerOrder)
        #expect(read.nodes.map(\.name) == g.nodes.map(\.name))
        #expect(read.nodes.last?.attributes.map(\.name) == ["i", "f", "s", "is", "fs", "ss", "t", "then_branch"])
        // And again: a read, write, read changes nothing, down to the bytes.
        let again = try ONNXFile.write(read)
        #expect(again == bytes)
        #expect(try ONNXFile.read(again) == g)
    }

    @Test func writesInitializersAsRawDataInOrder() throws {
        let g = sampleCNN()
        let m = try Onnx_ModelProto(serializedBytes: try ONNXFile.write(g))
        #expect(m.graph.initializer.map(\.name) == g.initializerOrder)
        for tp in m.graph.initializer {
            #expect(tp.hasRawData)
            #expect(tp.rawData == g.initializers[tp.name]?.data)
            #expect(tp.floatData.isEmpty && tp.int32Data.isEmpty && tp.int64Data.isEmpty)
        }
        #expect(m.irVersion == 8 && m.producerName == "pruned-tests")
        #expect(m.metadataProps.map(\.key) == ["task", "author"])
    }

    @Test func fileRoundTripThroughMemoryMapping() throws {
        // PRUNED_FORMATS_SAMPLE_DIR keeps the files, for checking them with onnxruntime by hand.
        let keep = ProcessInfo.processInfo.environment["PRUNED_FORMATS_SAMPLE_DIR"]
        let dir = keep.map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("pruned-onnx-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { if keep == nil { try? FileManager.default.removeItem(at: dir) } }

        let g = sampleCNN()
        let url = dir.appendingPathComponent("sample_cnn.onnx")
        try ONNXFile.write(g, to: url)
        #expect(try ONNXFile.read(contentsOf: url) == g)

        let st = SafeTensorsFile(tensors: DType.allCases.map { dtype in
            .init("t.\(dtype.rawValue)", Tensor(shape: [2, 2], floats: dtype == .bool ? [1, 0, 0, 1] : [1, 2, 3, 4], dtype: dtype))
        }, metadata: ["format": "pt"])
        let stURL = dir.appendingPathComponent("all_dtypes.safetensors")
        try st.write(to: stURL)
        #expect(try SafeTensorsFile.read(contentsOf: stURL) == st)
    }

    @Test func readsTypedDataFields() throws {
        let inits = [
            tensorProto("f32", .float, dims: [2]) { $0.floatData = [1.5, -2] },
            tensorProto("f64", .double, dims: [2]) { $0.doubleData = [0.25, -1e300] },
            tensorProto("i64", .int64, dims: [2]) { $0.int64Data = [-3, 1 << 40] },
            tensorProto("i32", .int32, dims: [1, 2]) { $0.int32Data = [-5, 70000] },
            tensorProto("i8", .int8, dims: [2]) { $0.int32Data = [-128, 127] },
            tensorProto("u8", .uint8, dims: [2]) { $0.int32Data = [0, 255] },
            tensorProto("bool", .bool, dims: [3]) { $0.int32Data = [1, 0, 1] },
            tensorProto("f16", .float16, dims: [2]) { $0.int32Data = [0x3C00, 0xC000] },
            tensorProto("bf16", .bfloat16, dims: [2]) { $0.int32Data = [0x3F80, 0xC000] },
            tensorProto("scalar", .float, dims: []) { $0.floatData = [7] },
            tensorProto("none", .float, dims: [0, 5]),
            tensorProto("raw", .int32, dims: [2]) { $0.rawData = Data([1, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF]) },
        ]
        let g = try ONNXFile.read(try modelBytes(initializers: inits))
        #expect(g.initializerOrder == inits.map(\.name))
        #expect(g.initializers["f32"] == Tensor(shape: [2], floats: [1.5, -2]))
        #expect(g.initializers["f64"]?.dtype == .f64)
        #expect(g.initializers["f64"]?.data == [0.25, -1e300].withUnsafeBytes { Data($0) })
        #expect(g.initializers["i64"] == Tensor(shape: [2], int64s: [-3, 1 << 40]))
        #expect(g.initializers["i32"]?.int64s() == [-5, 70000])
        #expect(g.initializers["i32"]?.shape == [1, 2])
        #expect(g.initializers["i8"]?.int64s() == [-128, 127])
        #expect(g.initializers["u8"]?.data == Data([0, 255]))
        let bools = try Tensor(dtype: .bool, shape: [3], data: Data([1, 0, 1]))
        #expect(g.initializers["bool"] == bools)
        #expect(g.initializers["f16"] == Tensor(shape: [2], floats: [1, -2], dtype: .f16))
        #expect(g.initializers["bf16"] == Tensor(shape: [2], floats: [1, -2], dtype: .bf16))
        #expect(g.initializers["scalar"] == Tensor(shape: [], floats: [7]))
        #expect(g.initializers["none"] == Tensor(shape: [0, 5], floats: []))
        #expect(g.initializers["raw"]?.int64s() == [1, -1])
    }

    @Test func readsAttributesInFileOrderAndKeepsOtherKindsOpaque() throws {
        let attrs = [
            attributeProto("g") { $0.type = .graph; $0.g.name = "body" },
            attributeProto("i") { $0.type = .int; $0.i = 3 },
            attributeProto("gs") { $0.type = .graphs; $0.graphs = [Onnx_GraphProto()] },
            attributeProto("sp") { $0.type = .sparseTensor; $0.sparseTensor.dims = [4] },
            attributeProto("tp") { $0.type = .typeProto; $0.tp.tensorType.elemType = 1 },
            attributeProto("ts") { $0.type = .tensors; $0.tensors = [tensorProto("", .float, dims: [1]) { $0.floatData = [1] }] },
            attributeProto("legacy") { $0.i = 9 },  // no `type`, as in files before IR version 2
            attributeProto("bytes") { $0.type = .string; $0.s = Data([0xFF, 0xFE]) },
            attributeProto("ref") { $0.type = .int; $0.refAttrName = "outer" },
            attributeProto("t") { $0.type = .tensor; $0.t = tensorProto("", .int64, dims: [1]) { $0.int64Data = [5] } },
        ]
        var n = Onnx_NodeProto()
        n.opType = "Loop"
        n.attribute = attrs
        let node = try #require(try ONNXFile.read(try modelBytes(nodes: [n])).nodes.first)
        #expect(node.attributes.map(\.name) == attrs.map(\.name))
        for (a, p) in zip(node.attributes, attrs) where ["g", "gs", "sp", "tp", "ts", "bytes", "ref"].contains(a.name) {
            #expect(a.value == .opaque(try p.serializedBytes()), "\(a.name)")
        }
        #expect(node.int("i") == 3)
        #expect(node.int("legacy") == 9)
        #expect(node.tensor("t") == Tensor(shape: [1], int64s: [5]))
        // Written back, the opaque ones are the same messages.
        let written = try Onnx_ModelProto(serializedBytes: try ONNXFile.write(try ONNXFile.read(try modelBytes(nodes: [n]))))
        for (w, p) in zip(written.graph.node[0].attribute, attrs) where !["legacy", "i", "t"].contains(p.name) {
            #expect(w == p, "\(p.name)")
        }
    }

    @Test func readsValueInfoShapesAndTypes() throws {
        func value(_ name: String, _ fill: (inout Onnx_ValueInfoProto) -> Void) -> Onnx_ValueInfoProto {
            var v = Onnx_ValueInfoProto()
            v.name = name
            fill(&v)
            return v
        }
        let dims: [Onnx_TensorShapeProto.Dimension] = [
            { var d = Onnx_TensorShapeProto.Dimension(); d.dimValue = 1; return d }(),
            { var d = Onnx_TensorShapeProto.Dimension(); d.dimParam = "N"; return d }(),
            Onnx_TensorShapeProto.Dimension(),
        ]
        let bytes = try modelBytes {
            $0.graph.input = [value("x") { $0.type.tensorType.elemType = 10; $0.type.tensorType.shape.dim = dims }]
            $0.graph.output = [value("y") { $0.type.tensorType.elemType = 7 }, value("seq") { $0.type.sequenceType.elemType.tensorType.elemType = 1 }]
            $0.graph.valueInfo = [value("u16") { $0.type.tensorType.elemType = 4; $0.type.tensorType.shape = Onnx_TensorShapeProto() },
                                  value("bare") { _ in }]
            $0.producerName = "p"
            $0.docString = "d"
            $0.metadataProps = [ONNXWriter.entry("b", "2"), ONNXWriter.entry("a", "1")]
            $0.opsetImport.append({ var o = Onnx_OperatorSetIdProto(); o.domain = "ai.onnx.ml"; o.version = 3; return o }())
        }
        let g = try ONNXFile.read(bytes)
        #expect(g.inputs == [ValueInfo(name: "x", elementType: .f16, shape: [.fixed(1), .symbolic("N"), .unknown])])
        #expect(g.outputs == [ValueInfo(name: "y", elementType: .i64, shape: nil), ValueInfo(name: "seq", elementType: nil, shape: nil)])
        #expect(g.valueInfo == [ValueInfo(name: "u16", elementType: nil, shape: []), ValueInfo(name: "bare", elementType: nil, shape: nil)])
        #expect(g.model.producerName == "p" && g.model.docString == "d" && g.model.irVersion == 8)
        #expect(g.model.metadata.map(\.key) == ["b", "a"])
        #expect(g.model.opsets == [Opset(domain: "", version: 17), Opset(domain: "ai.onnx.ml", version: 3)])
    }

    // MARK: - Bad models

    struct Bad: CustomTestStringConvertible, Sendable {
        var name: String
        var model: Data
        var error: ONNXError
        /// Text the message must contain (the tensor's name, byte counts, advice).
        var mentions: [String]
        var testDescription: String { name }
    }

    static let bad: [Bad] = {
        var cases: [Bad] = []
        func add(_ name: String, _ model: () throws -> Data, _ error: ONNXError, _ mentions: [String]) {
            cases.append(Bad(name: name, model: try! model(), error: error, mentions: mentions))
        }
        let w = "initializer 'w'"
        func initializer(_ t: Onnx_TensorProto) -> () throws -> Data { { try modelBytes(initializers: [t]) } }

        add("empty", { Data() }, .notAModel(reason: "the file is empty"), ["not an ONNX model", "empty"])
        add("no graph", { try { var m = Onnx_ModelProto(); m.irVersion = 8; return try m.serializedBytes() }() },
            .notAModel(reason: "the ModelProto has no graph"), ["no graph"])
        add("raw_data too short", initializer(tensorProto("w", .float, dims: [2, 3]) { $0.rawData = Data(count: 20) }),
            .sizeMismatch(tensor: w, dtype: .f32, shape: [2, 3], expectedBytes: 24, actualBytes: 20), ["'w'", "24 bytes", "has 20"])
        add("raw_data too long", initializer(tensorProto("w", .float16, dims: [3]) { $0.rawData = Data(count: 8) }),
            .sizeMismatch(tensor: w, dtype: .f16, shape: [3], expectedBytes: 6, actualBytes: 8), ["'w'", "6 bytes", "has 8"])
        add("float_data too short", initializer(tensorProto("w", .float, dims: [2, 3]) { $0.floatData = [1, 2, 3, 4, 5] }),
            .valueCountMismatch(tensor: w, field: "float_data", dtype: .f32, shape: [2, 3], expected: 6, actual: 5), ["'w'", "float_data"])
        add("int32_data too long", initializer(tensorProto("w", .bfloat16, dims: [1]) { $0.int32Data = [1, 2] }),
            .valueCountMismatch(tensor: w, field: "int32_data", dtype: .bf16, shape: [1], expected: 1, actual: 2), ["'w'", "int32_data"])
        add("no data at all", initializer(tensorProto("w", .int64, dims: [4])),
            .valueCountMismatch(tensor: w, field: "int64_data", dtype: .i64, shape: [4], expected: 4, actual: 0), ["'w'"])
        add("external data", initializer(tensorProto("w", .float, dims: [1000]) {
            $0.dataLocation = .external
            $0.externalData = [ONNXWriter.entry("location", "weights.bin"), ONNXWriter.entry("offset", "0")]
        }), .externalData(tensor: w), ["'w'", "external", "re-export"])
        add("string tensor", initializer(tensorProto("w", .string, dims: [1]) { $0.stringData = [Data("a".utf8)] }),
            .unsupportedElementType(tensor: w, code: 8), ["'w'", "STRING"])
        add("uint16 tensor", initializer(tensorProto("w", .uint16, dims: [1]) { $0.rawData = Data(count: 2) }),
            .unsupportedElementType(tensor: w, code: 4), ["'w'", "UINT16"])
        add("negative dim", initializer(tensorProto("w", .float, dims: [2, -3]) { $0.rawData = Data(count: 24) }),
            .badDims(tensor: w, dims: [2, -3]), ["'w'", "-3"])
        add("element count overflows", initializer(tensorProto("w", .float, dims: [1 << 40, 1 << 40]) { $0.rawData = Data(count: 4) }),
            .badDims(tensor: w, dims: [1 << 40, 1 << 40]), ["'w'"])
        add("byte count overflows", initializer(tensorProto("w", .double, dims: [1 << 61]) { $0.doubleData = [1] }),
            .badDims(tensor: w, dims: [1 << 61]), ["'w'"])
        add("huge dim with little data", initializer(tensorProto("w", .float, dims: [1 << 40]) { $0.floatData = [1] }),
            .valueCountMismatch(tensor: w, field: "float_data", dtype: .f32, shape: [1 << 40], expected: 1 << 40, actual: 1), ["'w'"])
        add("duplicate initializer", {
            try modelBytes(initializers: [tensorProto("w", .float, dims: [1]) { $0.floatData = [1] },
                                          tensorProto("w", .float, dims: [1]) { $0.floatData = [2] }])
        }, .duplicateInitializer(name: "w"), ["'w'"])
        add("negative dim in a value", {
            try modelBytes {
                var v = Onnx_ValueInfoProto()
                v.name = "x"
                v.type.tensorType.elemType = 1
                v.type.tensorType.shape.dim = [{ var d = Onnx_TensorShapeProto.Dimension(); d.dimValue = -1; return d }()]
                $0.graph.input = [v]
            }
        }, .badValueDim(value: "x", axis: 0, dim: -1), ["'x'", "-1"])
        add("short constant tensor", {
            var n = Onnx_NodeProto()
            n.name = "c0"
            n.opType = "Constant"
            n.output = ["k"]
            n.attribute = [attributeProto("value") { $0.type = .tensor; $0.t = tensorProto("", .int64, dims: [2]) { $0.rawData = Data(count: 8) } }]
            return try modelBytes(nodes: [n])
        }, .sizeMismatch(tensor: "tensor attribute 'value' of node 'c0'", dtype: .i64, shape: [2], expectedBytes: 16, actualBytes: 8),
            ["'value'", "'c0'", "16 bytes"])
        add("local functions", {
            try modelBytes { var f = Onnx_FunctionProto(); f.name = "Block"; f.domain = "custom"; $0.functions = [f] }
        }, .unsupported("model-local function 'custom.Block'; export with functions inlined"), ["custom.Block"])
        add("sparse initializer", {
            try modelBytes { var s = Onnx_SparseTensorProto(); s.values.name = "sp"; $0.graph.sparseInitializer = [s] }
        }, .unsupported("sparse initializer 'sp'; store it as a dense initializer"), ["'sp'"])
        return cases
    }()

    @Test(arguments: bad)
    func badModelIsRefusedWithTheRightError(_ bad: Bad) {
        let error = #expect(throws: ONNXError.self) { try ONNXFile.read(bad.model) }
        guard let error else { return }
        #expect(error == bad.error)
        for m in bad.mentions { #expect("\(error)".contains(m), "\(error) should mention \(m)") }
    }

    @Test(arguments: [Data([0xFF, 0xFF, 0xFF, 0xFF]), Data("hello, world".utf8), Data([0x0A, 0x10, 0x01])])
    func bytesThatAreNotAProtobufAreNotAModel(_ bytes: Data) {
        let error = #expect(throws: ONNXError.self) { try ONNXFile.read(bytes) }
        guard case let .notAModel(reason)? = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(reason.contains("protobuf") || reason.contains("no graph"))
        #expect("\(error!)".hasPrefix("not an ONNX model"))
    }

    @Test func safetensorsBytesAreNotAModel() throws {
        let bytes = try SafeTensorsFile(tensors: [.init("w", Tensor(shape: [2], floats: [1, 2]))]).serialized()
        #expect(throws: ONNXError.self) { try ONNXFile.read(bytes) }
    }

    @Test func writerRefusesInconsistentTensorsAndBadOpaqueAttributes() throws {
        var g = sampleCNN()
        g.initializers["conv.bias"]?.shape = [5]
        #expect(throws: ONNXError.sizeMismatch(tensor: "initializer 'conv.bias'", dtype: .f32, shape: [5], expectedBytes: 20, actualBytes: 16)) {
            try ONNXFile.write(g)
        }
        g = sampleCNN()
        g.nodes[0][attribute: "body"] = .opaque(Data([0xFF, 0xFF]))
        #expect(throws: ONNXError.badOpaqueAttribute(node: "conv", attribute: "body")) { try ONNXFile.write(g) }
    }

    @Test func writerKeepsInitializersMissingFromTheOrder() throws {
        var g = sampleCNN()
        g.initializers["extra"] = Tensor(shape: [1], floats: [3])
        let read = try ONNXFile.read(try ONNXFile.write(g))
        #expect(read.initializerOrder == g.initializerOrder + ["extra"])
    }
}
