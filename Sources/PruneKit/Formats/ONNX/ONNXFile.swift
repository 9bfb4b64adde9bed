// onnx.pb.swift is generated from onnx.proto (ONNX 1.23.2) with protoc 3.21.12 and
// protoc-gen-swift at the SwiftProtobuf version Package.resolved pins (1.39.0; the two must
// match). To regenerate, from the package root:
//
//   git clone https://github.com/apple/swift-protobuf.git /tmp/swift-protobuf \
//     && git -C /tmp/swift-protobuf checkout 1.39.0 \
//     && (cd /tmp/swift-protobuf && swift build -c release --product protoc-gen-swift)
//   protoc --plugin=protoc-gen-swift=/tmp/swift-protobuf/.build/release/protoc-gen-swift \
//     --swift_opt=Visibility=Internal --swift_out=Sources/PruneKit/Formats/ONNX \
//     -I Sources/PruneKit/Formats/ONNX Sources/PruneKit/Formats/ONNX/onnx.proto

import Foundation

/// Reads an ONNX model (a serialized `ModelProto`) into a `Graph`, and writes one back.
///
/// Read: nodes with their attributes in file order; initializers from `raw_data` or the typed
/// fields; inputs, outputs and `value_info` with element type and shape; the model's IR
/// version, opsets, producer, doc string and metadata. Attribute kinds the IR does not model
/// (graphs, sparse tensors, type protos, lists of tensors) are kept as their serialized
/// `AttributeProto`. External data is read from files beside a model read from a file (and
/// written back inline). Refused with an `ONNXError`: external data in a model read from
/// memory, element types `DType` lacks,
/// sparse initializers and model-local functions.
///
/// Write: initializers as `raw_data` in `initializerOrder`; reading the output gives back an
/// equal `Graph`.
public enum ONNXFile {
    /// Reads a model held in memory. Throws `ONNXError`.
    public static func read(_ data: Data) throws -> Graph {
        try ONNXReader.graph(from: data)
    }

    /// Reads a model file, mapped into memory rather than read into a buffer (a pipe or device
    /// is read into memory instead). Initializers kept in external data files are read from
    /// beside it. Throws `ONNXError`, or an error naming the path when the file cannot be opened.
    public static func read(contentsOf url: URL) throws -> Graph {
        let externalData = ONNXExternalData(directory: url.deletingLastPathComponent())
        return try MappedFile.withFile(
            at: url,
            mapped: { file in try file.withContents { try ONNXReader.graph(from: $0, externalData: externalData) } },
            unmapped: { try ONNXReader.graph(from: $0, externalData: externalData) })
    }

    /// The serialized `ModelProto`. Throws `ONNXError` for a tensor whose bytes do not match
    /// its dtype and shape, or an opaque attribute that is not a serialized `AttributeProto`.
    public static func write(_ graph: Graph) throws -> Data {
        try ONNXWriter.model(from: graph).serializedBytes()
    }

    /// Writes `write(graph)` to `url` atomically (a temporary file renamed into place).
    public static func write(_ graph: Graph, to url: URL) throws {
        try write(graph).write(to: url, options: .atomic)
    }
}
