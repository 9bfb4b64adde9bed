import Foundation
import Testing
@testable import PruneKit

/// Models whose initializers live in a side file, as PyTorch's exporter writes them: read from
/// beside the model, checked, and refused with the tensor named when the entry lies.
@Suite struct ONNXExternalDataTests {
    /// A model with two F32 initializers in `weights.bin` (`a` at offset 0, `b` after it) and one
    /// inline, in a fresh directory. `entries` rewrites the external entries of `b`.
    func writeModel(bEntries: ((inout [String: String]) -> Void)? = nil) throws -> (URL, [Float], [Float]) {
        let dir = FileManager.default.temporaryDirectory.appending(path: "extdata-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let a: [Float] = [1, -2, 3.5, 4]
        let b: [Float] = (0..<6).map { Float($0) * 0.25 }
        var blob = Data(a.withUnsafeBytes { Data($0) })
        blob.append(b.withUnsafeBytes { Data($0) })
        try blob.write(to: dir.appending(path: "weights.bin"))

        func external(_ name: String, dims: [Int64], _ fields: [String: String]) -> Onnx_TensorProto {
            var t = Onnx_TensorProto()
            t.name = name
            t.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
            t.dims = dims
            t.dataLocation = .external
            t.externalData = fields.keys.sorted().map { ONNXWriter.entry($0, fields[$0]!) }
            return t
        }
        var bFields = ["location": "weights.bin", "offset": "16", "length": "24"]
        bEntries?(&bFields)
        var inline = Onnx_TensorProto()
        inline.name = "c"
        inline.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        inline.dims = [1]
        inline.floatData = [7]

        var m = Onnx_ModelProto()
        m.irVersion = 8
        var opset = Onnx_OperatorSetIdProto()
        opset.version = 17
        m.opsetImport = [opset]
        m.graph.name = "g"
        m.graph.initializer = [external("a", dims: [2, 2], ["location": "weights.bin", "offset": "0", "length": "16"]),
                               external("b", dims: [6], bFields), inline]
        let url = dir.appending(path: "net.onnx")
        let bytes: Data = try m.serializedBytes()
        try bytes.write(to: url)
        return (url, a, b)
    }

    @Test func readsInitializersFromTheSideFile() throws {
        let (url, a, b) = try writeModel()
        let graph = try ONNXFile.read(contentsOf: url)
        #expect(graph.initializers["a"]?.shape == [2, 2])
        #expect(graph.initializers["a"]?.floats() == a)
        #expect(graph.initializers["b"]?.floats() == b)
        #expect(graph.initializers["c"]?.floats() == [7])
        // Written back, the data is inline: the same graph reads from memory alone.
        let again = try ONNXFile.read(try ONNXFile.write(graph))
        #expect(again.initializers["b"]?.floats() == b)
    }

    @Test func lengthDefaultsToWhatTheShapeNeeds() throws {
        let (url, _, b) = try writeModel { $0["length"] = nil }
        #expect(try ONNXFile.read(contentsOf: url).initializers["b"]?.floats() == b)
    }

    @Test func overlappingTensorsDoNotAlias() throws {
        // `b` reads bytes 8..<32, overlapping `a`'s 0..<16: both must still read their own values.
        let (url, a, _) = try writeModel { $0["offset"] = "8" }
        let graph = try ONNXFile.read(contentsOf: url)
        #expect(graph.initializers["a"]?.floats() == a)
        #expect(graph.initializers["b"]?.floats().prefix(2) == [3.5, 4])
    }

    @Test(arguments: [
        (["location": "../weights.bin"], "plain relative path"),
        (["location": "/etc/passwd"], "plain relative path"),
        (["location": "sub//weights.bin"], "plain relative path"),
        (["location": ""], "no 'location'"),
        (["location": "missing.bin"], "cannot read its data file 'missing.bin'"),
        (["offset": "-4"], "'offset' is '-4'"),
        (["offset": "ten"], "'offset' is 'ten'"),
        (["length": "20"], "'length' is 20 bytes, but its dtype and shape need 24"),
        (["offset": "30"], "beyond the end of 'weights.bin' (40 bytes)"),
    ])
    func refusesLyingEntries(change: [String: String], mentions: String) throws {
        let (url, _, _) = try writeModel { fields in for (k, v) in change { fields[k] = v } }
        do {
            _ = try ONNXFile.read(contentsOf: url)
            Issue.record("read a model whose external entry is \(change)")
        } catch let error as ONNXError {
            guard case let .badExternalData(tensor, _) = error else {
                Issue.record("unexpected error \(error)")
                return
            }
            #expect(tensor == "initializer 'b'")
            #expect(error.description.contains(mentions), "\(error.description)")
        }
    }

    @Test func fromMemoryExternalDataIsRefused() throws {
        let (url, _, _) = try writeModel()
        #expect(throws: ONNXError.externalData(tensor: "initializer 'a'")) {
            try ONNXFile.read(try Data(contentsOf: url))
        }
    }
}
