import Foundation
import SwiftProtobuf

/// ModelProto -> Graph.
enum ONNXReader {
    /// `externalData` resolves tensors kept in side files; without it they are refused.
    static func graph(from data: Data, externalData: ONNXExternalData? = nil) throws -> Graph {
        guard !data.isEmpty else { throw ONNXError.notAModel(reason: "the file is empty") }
        let model: Onnx_ModelProto
        do {
            model = try Onnx_ModelProto(serializedBytes: data)
        } catch {
            throw ONNXError.notAModel(reason: "the bytes do not decode as a protobuf ModelProto (\(error))")
        }
        guard model.hasGraph else { throw ONNXError.notAModel(reason: "the ModelProto has no graph") }
        if let f = model.functions.first {
            throw ONNXError.unsupported("model-local function '\(f.domain.isEmpty ? "" : f.domain + ".")\(f.name)'; export with functions inlined")
        }
        let g = model.graph
        if let s = g.sparseInitializer.first {
            throw ONNXError.unsupported("sparse initializer '\(s.values.name)'; store it as a dense initializer")
        }

        var graph = Graph(name: g.name)
        graph.nodes = try g.node.map(node)
        for tp in g.initializer {
            guard graph.initializers[tp.name] == nil else { throw ONNXError.duplicateInitializer(name: tp.name) }
            graph.setInitializer(tp.name, try tensor(tp, "initializer '\(tp.name)'", externalData: externalData))
        }
        graph.inputs = try g.input.map(valueInfo)
        graph.outputs = try g.output.map(valueInfo)
        graph.valueInfo = try g.valueInfo.map(valueInfo)
        graph.model = modelInfo(model)
        return graph
    }

    static func modelInfo(_ m: Onnx_ModelProto) -> ModelInfo {
        var info = ModelInfo()
        info.irVersion = Int(m.irVersion)
        info.opsets = m.opsetImport.map { Opset(domain: $0.domain, version: Int($0.version)) }
        info.producerName = m.producerName
        info.producerVersion = m.producerVersion
        info.domain = m.domain
        info.modelVersion = Int(m.modelVersion)
        info.docString = m.docString
        info.metadata = m.metadataProps.map { (key: $0.key, value: $0.value) }
        return info
    }

    static func node(_ n: Onnx_NodeProto) throws -> Node {
        let label = n.name.isEmpty ? "\(n.opType)(\(n.output.first ?? "?"))" : n.name
        return Node(name: n.name, opType: n.opType, domain: n.domain, inputs: n.input, outputs: n.output,
                    attributes: try n.attribute.map { try attribute($0, node: label) }, docString: n.docString)
    }

    static func attribute(_ a: Onnx_AttributeProto, node: String) throws -> Attribute {
        let opaque = Attribute(a.name, .opaque(try a.serializedBytes()))
        // A reference to an attribute of the enclosing function, not a value.
        guard !a.hasRefAttrName else { return opaque }
        switch a.type == .undefined ? inferredType(a) : a.type {
        case .int: return Attribute(a.name, .int(Int(a.i)))
        case .float: return Attribute(a.name, .float(a.f))
        case .ints: return Attribute(a.name, .ints(a.ints.map { Int($0) }))
        case .floats: return Attribute(a.name, .floats(a.floats))
        case .string:
            // Bytes that are not UTF-8 stay opaque so that they are written back unchanged.
            guard let s = String(data: a.s, encoding: .utf8) else { return opaque }
            return Attribute(a.name, .string(s))
        case .strings:
            let strings = a.strings.compactMap { String(data: $0, encoding: .utf8) }
            guard strings.count == a.strings.count else { return opaque }
            return Attribute(a.name, .strings(strings))
        case .tensor:
            return Attribute(a.name, .tensor(try tensor(a.t, "tensor attribute '\(a.name)' of node '\(node)'")))
        default:
            return opaque
        }
    }

    /// Files from before IR version 2 may leave `type` unset; the field that is present says it.
    static func inferredType(_ a: Onnx_AttributeProto) -> Onnx_AttributeProto.AttributeType {
        if a.hasF { return .float }
        if a.hasI { return .int }
        if a.hasS { return .string }
        if a.hasT { return .tensor }
        if a.hasG { return .graph }
        if !a.floats.isEmpty { return .floats }
        if !a.ints.isEmpty { return .ints }
        if !a.strings.isEmpty { return .strings }
        return .undefined
    }

    static func valueInfo(_ v: Onnx_ValueInfoProto) throws -> ValueInfo {
        guard v.hasType, case let .tensorType(t)? = v.type.value else {
            return ValueInfo(name: v.name, elementType: nil, shape: nil)
        }
        let elementType = t.hasElemType ? DType(onnxCode: Int(t.elemType)) : nil
        guard t.hasShape else { return ValueInfo(name: v.name, elementType: elementType, shape: nil) }
        let shape = try t.shape.dim.enumerated().map { axis, d -> Dim in
            switch d.value {
            case let .dimValue(n)?:
                guard n >= 0 else { throw ONNXError.badValueDim(value: v.name, axis: axis, dim: n) }
                return .fixed(Int(n))
            case let .dimParam(s)?:
                return s.isEmpty ? .unknown : .symbolic(s)
            case nil:
                return .unknown
            }
        }
        return ValueInfo(name: v.name, elementType: elementType, shape: shape)
    }

    /// A TensorProto's values. `raw_data` is shared with the decoded message, not copied.
    static func tensor(_ tp: Onnx_TensorProto, _ label: String, externalData: ONNXExternalData? = nil) throws -> Tensor {
        guard let dtype = DType(onnxCode: Int(tp.dataType)) else {
            throw ONNXError.unsupportedElementType(tensor: label, code: Int(tp.dataType))
        }
        if tp.hasSegment { throw ONNXError.unsupported("\(label) is stored in segments") }
        guard tp.dims.allSatisfy({ $0 >= 0 }),
              let count = Tensor.elementCount(tp.dims.map { Int($0) }),
              case let (bytes, overflow) = count.multipliedReportingOverflow(by: dtype.size), !overflow
        else {
            throw ONNXError.badDims(tensor: label, dims: tp.dims)
        }
        let shape = tp.dims.map { Int($0) }

        let data: Data
        if tp.dataLocation == .external {
            guard let externalData else { throw ONNXError.externalData(tensor: label) }
            data = try externalData.bytes(tp.externalData, tensor: label, expectedBytes: bytes)
        } else if tp.hasRawData {
            guard tp.rawData.count == bytes else {
                throw ONNXError.sizeMismatch(tensor: label, dtype: dtype, shape: shape, expectedBytes: bytes, actualBytes: tp.rawData.count)
            }
            data = tp.rawData
        } else {
            func values<T>(_ field: String, _ v: [T]) throws -> [T] {
                guard v.count == count else {
                    throw ONNXError.valueCountMismatch(tensor: label, field: field, dtype: dtype, shape: shape, expected: count, actual: v.count)
                }
                return v
            }
            // Typed fields per onnx.proto: int32_data carries every type of 16 bits or fewer,
            // f16/bf16 as their bit patterns.
            switch dtype {
            case .f32: data = littleEndianBytes(try values("float_data", tp.floatData))
            case .f64: data = littleEndianBytes(try values("double_data", tp.doubleData))
            case .i64: data = littleEndianBytes(try values("int64_data", tp.int64Data))
            case .i32: data = littleEndianBytes(try values("int32_data", tp.int32Data))
            case .f16, .bf16: data = littleEndianBytes(try values("int32_data", tp.int32Data).map { UInt16(truncatingIfNeeded: $0) })
            case .i8: data = littleEndianBytes(try values("int32_data", tp.int32Data).map { Int8(truncatingIfNeeded: $0) })
            case .u8, .bool: data = Data(try values("int32_data", tp.int32Data).map { UInt8(truncatingIfNeeded: $0) })
            }
        }
        return try Tensor(dtype: dtype, shape: shape, data: data)
    }

    /// The values' bytes; like `Tensor`, this assumes a little-endian host.
    static func littleEndianBytes<T>(_ values: [T]) -> Data {
        values.withUnsafeBytes { Data($0) }
    }
}
