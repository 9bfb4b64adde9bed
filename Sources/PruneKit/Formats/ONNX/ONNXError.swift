import Foundation

/// What is wrong with an ONNX model, and where. `tensor` strings say which tensor, e.g.
/// `initializer 'conv1.weight'` or `tensor attribute 'value' of node 'Constant_3'`.
public enum ONNXError: Error, Equatable, CustomStringConvertible {
    /// Not a protobuf `ModelProto`, or one without a graph.
    case notAModel(reason: String)
    /// External data in a model read from memory (an upload), where there is no directory to
    /// find the side file in.
    case externalData(tensor: String)
    /// External data whose location, offset or length is wrong, or whose file cannot be read.
    case badExternalData(tensor: String, reason: String)
    /// `code` is the ONNX `TensorProto.DataType`.
    case unsupportedElementType(tensor: String, code: Int)
    /// A negative dimension, or a shape whose byte count does not fit in memory.
    case badDims(tensor: String, dims: [Int64])
    /// `raw_data` holds a different number of bytes than dtype and shape need.
    case sizeMismatch(tensor: String, dtype: DType, shape: [Int], expectedBytes: Int, actualBytes: Int)
    /// A typed data field (`float_data`, `int32_data`, ...) holds a different number of values.
    case valueCountMismatch(tensor: String, field: String, dtype: DType, shape: [Int], expected: Int, actual: Int)
    case badValueDim(value: String, axis: Int, dim: Int64)
    case duplicateInitializer(name: String)
    /// A part of ONNX this reader does not carry into the graph and must not drop.
    case unsupported(String)
    case badOpaqueAttribute(node: String, attribute: String)

    public var description: String {
        switch self {
        case let .notAModel(reason):
            return "not an ONNX model: \(reason)"
        case let .externalData(tensor):
            return "\(tensor) keeps its data in an external file, which can only be read when the model is read from a file next to it: re-export the model with the weights stored inside it (e.g. torch.onnx.export(..., external_data=False), or onnx.save_model(model, path, save_as_external_data=False))"
        case let .badExternalData(tensor, reason):
            return "\(tensor) keeps its data in an external file: \(reason)"
        case let .unsupportedElementType(tensor, code):
            return "\(tensor) has element type \(onnxTypeName(code)) (\(code)), which is not supported (supported: \(DType.allCases.map(\.rawValue).joined(separator: ", ")))"
        case let .badDims(tensor, dims):
            return "\(tensor) has invalid dims \(dims): dimensions must be non-negative and the tensor must fit in memory"
        case let .sizeMismatch(tensor, dtype, shape, expected, actual):
            return "\(tensor) (\(dtype.rawValue), shape \(shape)) needs \(expected) bytes, but raw_data has \(actual)"
        case let .valueCountMismatch(tensor, field, dtype, shape, expected, actual):
            return "\(tensor) (\(dtype.rawValue), shape \(shape)) needs \(expected) values, but \(field) has \(actual)"
        case let .badValueDim(value, axis, dim):
            return "value '\(value)' has dimension \(dim) at axis \(axis); dimensions must be non-negative"
        case let .duplicateInitializer(name):
            return "initializer '\(name)' appears more than once"
        case let .unsupported(what):
            return "unsupported ONNX model: \(what)"
        case let .badOpaqueAttribute(node, attribute):
            return "cannot write attribute '\(attribute)' of node '\(node)': its opaque value is not a serialized AttributeProto"
        }
    }
}

/// The `TensorProto.DataType` name for a code, for messages.
func onnxTypeName(_ code: Int) -> String {
    Onnx_TensorProto.DataType(rawValue: code).map { "\($0)".uppercased() } ?? "unknown"
}
