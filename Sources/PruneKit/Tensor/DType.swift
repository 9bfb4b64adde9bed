/// Element types a tensor can be stored in. Compute is always F32; storage keeps the
/// input's type so that a pruned model has the same dtypes as the model it came from.
public enum DType: String, Sendable, CaseIterable, Codable {
    case f16 = "F16"
    case bf16 = "BF16"
    case f32 = "F32"
    case f64 = "F64"
    case i64 = "I64"
    case i32 = "I32"
    case i8 = "I8"
    case u8 = "U8"
    case bool = "BOOL"

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .f64, .i64: return 8
        case .f32, .i32: return 4
        case .f16, .bf16: return 2
        case .i8, .u8, .bool: return 1
        }
    }

    public var isFloatingPoint: Bool {
        switch self {
        case .f16, .bf16, .f32, .f64: return true
        default: return false
        }
    }

    /// The safetensors spelling (`"F32"`, `"BF16"`, ...); nil for a type we do not read.
    public init?(safetensorsName: String) { self.init(rawValue: safetensorsName) }

    /// ONNX `TensorProto.DataType` codes (onnx.proto).
    public init?(onnxCode: Int) {
        switch onnxCode {
        case 1: self = .f32
        case 2: self = .u8
        case 3: self = .i8
        case 6: self = .i32
        case 7: self = .i64
        case 9: self = .bool
        case 10: self = .f16
        case 11: self = .f64
        case 16: self = .bf16
        default: return nil
        }
    }

    public var onnxCode: Int {
        switch self {
        case .f32: return 1
        case .u8: return 2
        case .i8: return 3
        case .i32: return 6
        case .i64: return 7
        case .bool: return 9
        case .f16: return 10
        case .f64: return 11
        case .bf16: return 16
        }
    }
}
