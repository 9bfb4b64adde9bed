import Foundation

/// What is wrong with a safetensors file, and where. Offsets are absolute byte offsets in the
/// file: the header's JSON starts at byte 8, tensor data at byte `8 + headerLength`.
public enum SafeTensorsError: Error, Equatable, CustomStringConvertible {
    /// Fewer than the 8 bytes of the header length.
    case fileTooShort(fileSize: Int)
    case headerTooLarge(headerLength: UInt64, limit: Int)
    case headerPastEnd(headerLength: UInt64, fileSize: Int)
    case headerNotJSON(offset: Int, reason: String)
    case headerNotObject(offset: Int, found: String)
    case duplicateName(tensor: String, offset: Int)
    case entryNotObject(tensor: String, offset: Int, found: String)
    case missingKey(tensor: String, key: String, offset: Int)
    case unknownDType(tensor: String, dtype: String, offset: Int)
    case badShape(tensor: String, offset: Int, reason: String)
    case badDataOffsets(tensor: String, offset: Int, reason: String)
    /// `data_offsets` end past the end of the data buffer.
    case dataPastEnd(tensor: String, end: Int, bufferSize: Int, offset: Int)
    /// `data_offsets` span a different number of bytes than dtype and shape need.
    case sizeMismatch(tensor: String, dtype: DType, shape: [Int], expected: Int, actual: Int, offset: Int)
    /// Bytes that no tensor covers, before `tensor` (nil: at the end of the buffer).
    case gap(tensor: String?, previous: String?, begin: Int, length: Int)
    /// `tensor` begins before `previous` (the tensor sorted just before it) ends.
    case overlap(tensor: String, previous: String, begin: Int, previousEnd: Int)
    case badMetadata(offset: Int, reason: String)
    /// A tensor handed to the writer whose bytes do not match its dtype and shape.
    case inconsistentTensor(tensor: String, reason: String)
    /// A name the writer cannot use: empty, `__metadata__`, or given twice.
    case badName(tensor: String, reason: String)

    public var description: String {
        switch self {
        case let .fileTooShort(size):
            return "not a safetensors file: \(size) bytes, too short for the 8-byte header length at offset 0"
        case let .headerTooLarge(length, limit):
            return "safetensors header length at offset 0 is \(length) bytes, over the \(limit)-byte limit"
        case let .headerPastEnd(length, size):
            return "safetensors header length at offset 0 is \(length) bytes, but the header would end at byte \(8 + length), past the end of the \(size)-byte file"
        case let .headerNotJSON(offset, reason):
            return "safetensors header is not valid JSON at byte \(offset): \(reason)"
        case let .headerNotObject(offset, found):
            return "safetensors header at byte \(offset) is \(found), not a JSON object"
        case let .duplicateName(tensor, offset):
            return "tensor '\(tensor)' at byte \(offset) appears more than once in the header"
        case let .entryNotObject(tensor, offset, found):
            return "entry for tensor '\(tensor)' at byte \(offset) is \(found), not an object"
        case let .missingKey(tensor, key, offset):
            return "entry for tensor '\(tensor)' at byte \(offset) has no \"\(key)\""
        case let .unknownDType(tensor, dtype, offset):
            return "tensor '\(tensor)' at byte \(offset) has dtype \"\(dtype)\", which is not supported (supported: \(DType.allCases.map(\.rawValue).joined(separator: ", ")))"
        case let .badShape(tensor, offset, reason):
            return "tensor '\(tensor)': bad shape at byte \(offset): \(reason)"
        case let .badDataOffsets(tensor, offset, reason):
            return "tensor '\(tensor)': bad data_offsets at byte \(offset): \(reason)"
        case let .dataPastEnd(tensor, end, bufferSize, offset):
            return "tensor '\(tensor)': data_offsets at byte \(offset) end at \(end), past the end of the \(bufferSize)-byte data buffer"
        case let .sizeMismatch(tensor, dtype, shape, expected, actual, offset):
            return "tensor '\(tensor)' at byte \(offset): dtype \(dtype.rawValue) and shape \(shape) need \(expected) bytes, data_offsets span \(actual)"
        case let .gap(tensor, previous, begin, length):
            let after = previous.map { "after tensor '\($0)'" } ?? "at the start of the data"
            let before = tensor.map { "before tensor '\($0)'" } ?? "at the end of the file"
            return "\(length) bytes at byte \(begin) belong to no tensor (\(after), \(before))"
        case let .overlap(tensor, previous, begin, previousEnd):
            return "tensor '\(tensor)' begins at byte \(begin), overlapping tensor '\(previous)', which ends at byte \(previousEnd)"
        case let .badMetadata(offset, reason):
            return "safetensors __metadata__ at byte \(offset): \(reason)"
        case let .inconsistentTensor(tensor, reason):
            return "cannot write tensor '\(tensor)': \(reason)"
        case let .badName(tensor, reason):
            return "cannot write tensor '\(tensor)': \(reason)"
        }
    }
}
