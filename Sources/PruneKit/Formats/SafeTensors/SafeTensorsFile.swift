import Foundation

/// A safetensors file: named tensors and the free-form `__metadata__` string map.
///
/// Format (https://github.com/huggingface/safetensors): an 8-byte little-endian header length
/// N, N bytes of JSON (`{"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]},
/// "__metadata__": {..}}`), then the data buffer that the offsets index into.
public struct SafeTensorsFile: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public var name: String
        public var tensor: Tensor
        public init(_ name: String, _ tensor: Tensor) { self.name = name; self.tensor = tensor }
    }

    /// Read: in data-offset order. Written: in this order.
    public var tensors: [Entry]
    /// Written sorted by key (so output is deterministic), and only when not empty.
    public var metadata: [String: String]

    /// Larger headers are refused before parsing (the reference implementation's limit).
    public static let maxHeaderLength = 100_000_000

    public init(tensors: [Entry] = [], metadata: [String: String] = [:]) {
        self.tensors = tensors
        self.metadata = metadata
    }

    /// The first tensor called `name`.
    public subscript(name: String) -> Tensor? {
        tensors.first { $0.name == name }?.tensor
    }
}
