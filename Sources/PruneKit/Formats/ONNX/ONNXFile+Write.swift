import Foundation
import SwiftProtobuf

/// Graph -> ModelProto.
enum ONNXWriter {
    static func model(from graph: Graph) throws -> Onnx_ModelProto {
        let info = graph.model
        var m = Onnx_ModelProto()
        m.irVersion = Int64(info.irVersion)
        m.opsetImport = info.opsets.map { o in
            var p = Onnx_OperatorSetIdProto()
            p.domain = o.domain
            p.version = Int64(o.version)
            return p
        }
        if !info.producerName.isEmpty { m.producerName = info.producerName }
        if !info.producerVersion.isEmpty { m.producerVersion = info.producerVersion }
        if !info.domain.isEmpty { m.domain = info.domain }
        if info.modelVersion != 0 { m.modelVersion = Int64(info.modelVersion) }
        if !info.docString.isEmpty { m.docString = info.docString }
        m.metadataProps = info.metadata.map { entry($0.key, $0.value) }

        var g = Onnx_GraphProto()
        g.name = graph.name
        g.node = try graph.nodes.map(node)
        // `initializerOrder` first; any initializer missing from it after, by name, so that
        // none is dropped.
        let ordered = Set(graph.initializerOrder)
        let names = graph.initializerOrder.filter { graph.initializers[$0] != nil }
            + graph.initializers.keys.filter { !ordered.contains($0) }.sorted()
        g.initializer = try names.map { name in
            var tp = try tensor(graph.initializers[name]!, "initializer '\(name)'")
            tp.name = name
            return tp
        }
        g.input = graph.inputs.map(valueInfo)
        g.output = graph.outputs.map(valueInfo)
        g.valueInfo = graph.valueInfo.map(valueInfo)
        m.graph = g
        return m
    }

    static func entry(_ key: String, _ value: String) -> Onnx_StringStringEntryProto {
        var e = Onnx_StringStringEntryProto()
        e.key = key
        e.value = value
        return e
    }

    static func node(_ n: Node) throws -> Onnx_NodeProto {
        var p = Onnx_NodeProto()
        if !n.name.isEmpty { p.name = n.name }
        p.opType = n.opType
        if !n.domain.isEmpty { p.domain = n.domain }
        p.input = n.inputs
        p.output = n.outputs
        p.attribute = try n.attributes.map { try attribute($0, node: n.label) }
        if !n.docString.isEmpty { p.docString = n.docString }
        return p
    }

    static func attribute(_ a: Attribute, node: String) throws -> Onnx_AttributeProto {
        var p = Onnx_AttributeProto()
        switch a.value {
        case let .int(v): p.type = .int; p.i = Int64(v)
        case let .float(v): p.type = .float; p.f = v
        case let .string(v): p.type = .string; p.s = Data(v.utf8)
        case let .ints(v): p.type = .ints; p.ints = v.map { Int64($0) }
        case let .floats(v): p.type = .floats; p.floats = v
        case let .strings(v): p.type = .strings; p.strings = v.map { Data($0.utf8) }
        case let .tensor(t): p.type = .tensor; p.t = try tensor(t, "tensor attribute '\(a.name)' of node '\(node)'")
        case let .opaque(bytes):
            do {
                p = try Onnx_AttributeProto(serializedBytes: bytes)
            } catch {
                throw ONNXError.badOpaqueAttribute(node: node, attribute: a.name)
            }
        }
        p.name = a.name
        return p
    }

    /// Always `raw_data`: the tensor's bytes are already the little-endian layout ONNX wants.
    static func tensor(_ t: Tensor, _ label: String) throws -> Onnx_TensorProto {
        guard let count = Tensor.elementCount(t.shape),
              case let (bytes, overflow) = count.multipliedReportingOverflow(by: t.dtype.size), !overflow
        else {
            throw ONNXError.badDims(tensor: label, dims: t.shape.map { Int64($0) })
        }
        guard bytes == t.data.count else {
            throw ONNXError.sizeMismatch(tensor: label, dtype: t.dtype, shape: t.shape, expectedBytes: bytes, actualBytes: t.data.count)
        }
        var p = Onnx_TensorProto()
        p.dims = t.shape.map { Int64($0) }
        p.dataType = Int32(t.dtype.onnxCode)
        p.rawData = t.data
        return p
    }

    static func valueInfo(_ v: ValueInfo) -> Onnx_ValueInfoProto {
        var p = Onnx_ValueInfoProto()
        p.name = v.name
        guard v.elementType != nil || v.shape != nil else { return p }
        var t = Onnx_TypeProto.Tensor()
        if let e = v.elementType { t.elemType = Int32(e.onnxCode) }
        if let shape = v.shape {
            var s = Onnx_TensorShapeProto()
            s.dim = shape.map { d in
                var pd = Onnx_TensorShapeProto.Dimension()
                switch d {
                case let .fixed(n): pd.dimValue = Int64(n)
                case let .symbolic(name): pd.dimParam = name
                case .unknown: break
                }
                return pd
            }
            t.shape = s
        }
        p.type.tensorType = t
        return p
    }
}
