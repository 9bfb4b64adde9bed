import Foundation

/// A dense, contiguous, row-major tensor stored in its own dtype.
///
/// Storage is the raw little-endian bytes so that tensors we do not change (and every
/// integer tensor) go back out byte for byte; `floats()` decodes for F32 compute.
public struct Tensor: Sendable, Equatable {
    public var dtype: DType
    public var shape: [Int]
    public var data: Data

    public enum Failure: Error, Equatable, CustomStringConvertible {
        case byteCountMismatch(shape: [Int], dtype: DType, expected: Int, actual: Int)
        case badShape([Int])
        case notFloatingPoint(DType)

        public var description: String {
            switch self {
            case let .byteCountMismatch(shape, dtype, expected, actual):
                return "tensor of shape \(shape) and dtype \(dtype.rawValue) needs \(expected) bytes, has \(actual)"
            case let .badShape(shape):
                return "invalid tensor shape \(shape)"
            case let .notFloatingPoint(dtype):
                return "expected a floating-point tensor, got \(dtype.rawValue)"
            }
        }
    }

    /// Number of elements of `shape`, or nil when a dimension is negative or the product overflows.
    public static func elementCount(_ shape: [Int]) -> Int? {
        var n = 1
        for d in shape {
            guard d >= 0 else { return nil }
            let (p, overflow) = n.multipliedReportingOverflow(by: d)
            if overflow { return nil }
            n = p
        }
        return n
    }

    public init(dtype: DType, shape: [Int], data: Data) throws {
        guard let n = Tensor.elementCount(shape) else { throw Failure.badShape(shape) }
        let (bytes, overflow) = n.multipliedReportingOverflow(by: dtype.size)
        guard !overflow else { throw Failure.badShape(shape) }
        guard bytes == data.count else {
            throw Failure.byteCountMismatch(shape: shape, dtype: dtype, expected: bytes, actual: data.count)
        }
        self.dtype = dtype
        self.shape = shape
        self.data = data
    }

    /// Encodes F32 values into `dtype` (rounding to nearest even for the 16-bit floats).
    public init(shape: [Int], floats: [Float], dtype: DType = .f32) {
        precondition(Tensor.elementCount(shape) == floats.count, "shape \(shape) does not hold \(floats.count) values")
        self.shape = shape
        self.dtype = dtype
        self.data = Tensor.encode(floats, as: dtype)
    }

    /// An I64 tensor (shapes, indices).
    public init(shape: [Int], int64s: [Int64]) {
        precondition(Tensor.elementCount(shape) == int64s.count)
        self.shape = shape
        self.dtype = .i64
        self.data = int64s.withUnsafeBytes { Data($0) }
    }

    public var count: Int { shape.reduce(1, *) }
    public var rank: Int { shape.count }

    /// Values as F32, whatever the storage type.
    public func floats() -> [Float] {
        let n = count
        return data.withUnsafeBytes { raw -> [Float] in
            switch dtype {
            case .f32:
                return [Float](unsafeUninitializedCapacity: n) { buffer, initialized in
                    _ = raw.copyBytes(to: UnsafeMutableRawBufferPointer(buffer))
                    initialized = n
                }
            case .f64: return (0..<n).map { Float(raw.loadUnaligned(fromByteOffset: $0 * 8, as: Double.self)) }
            case .f16: return (0..<n).map { floatFromHalfBits(raw.loadUnaligned(fromByteOffset: $0 * 2, as: UInt16.self)) }
            case .bf16: return (0..<n).map { floatFromBFloat16Bits(raw.loadUnaligned(fromByteOffset: $0 * 2, as: UInt16.self)) }
            case .i64: return (0..<n).map { Float(raw.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self)) }
            case .i32: return (0..<n).map { Float(raw.loadUnaligned(fromByteOffset: $0 * 4, as: Int32.self)) }
            case .i8: return (0..<n).map { Float(raw.load(fromByteOffset: $0, as: Int8.self)) }
            case .u8, .bool: return (0..<n).map { Float(raw[$0]) }
            }
        }
    }

    /// Values as Int64 (for shape and index tensors); floats are truncated.
    public func int64s() -> [Int64] {
        let n = count
        return data.withUnsafeBytes { raw -> [Int64] in
            switch dtype {
            case .i64: return (0..<n).map { raw.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self) }
            case .i32: return (0..<n).map { Int64(raw.loadUnaligned(fromByteOffset: $0 * 4, as: Int32.self)) }
            case .i8: return (0..<n).map { Int64(raw.load(fromByteOffset: $0, as: Int8.self)) }
            case .u8, .bool: return (0..<n).map { Int64(raw[$0]) }
            default: return floats().map { Int64($0) }
            }
        }
    }

    static func encode(_ values: [Float], as dtype: DType) -> Data {
        switch dtype {
        case .f32: return values.withUnsafeBytes { Data($0) }
        case .f64: return values.map { Double($0) }.withUnsafeBytes { Data($0) }
        case .f16: return values.map(halfBitsFromFloat).withUnsafeBytes { Data($0) }
        case .bf16: return values.map(bfloat16BitsFromFloat).withUnsafeBytes { Data($0) }
        case .i64: return values.map { Int64($0.rounded()) }.withUnsafeBytes { Data($0) }
        case .i32: return values.map { Int32($0.rounded()) }.withUnsafeBytes { Data($0) }
        case .i8: return values.map { Int8(clamping: Int($0.rounded())) }.withUnsafeBytes { Data($0) }
        case .u8: return Data(values.map { UInt8(clamping: Int($0.rounded())) })
        case .bool: return Data(values.map { $0 != 0 ? 1 : 0 })
        }
    }

    /// Keeps only `indices` (ascending or not, each in range) along `axis`, copying raw bytes,
    /// so that the kept elements are bit-identical to the input's.
    public func gathering(axis: Int, indices: [Int]) -> Tensor {
        precondition(axis >= 0 && axis < rank, "axis \(axis) out of range for shape \(shape)")
        let outer = shape[..<axis].reduce(1, *)
        let inner = shape[(axis + 1)...].reduce(1, *) * dtype.size
        let dim = shape[axis]
        var newShape = shape
        newShape[axis] = indices.count
        var out = Data(count: outer * indices.count * inner)
        data.withUnsafeBytes { src in
            out.withUnsafeMutableBytes { dst in
                var o = 0
                for a in 0..<outer {
                    for i in indices {
                        precondition(i >= 0 && i < dim, "index \(i) out of range for axis \(axis) of \(shape)")
                        let from = (a * dim + i) * inner
                        dst.baseAddress!.advanced(by: o).copyMemory(from: src.baseAddress!.advanced(by: from), byteCount: inner)
                        o += inner
                    }
                }
            }
        }
        return try! Tensor(dtype: dtype, shape: newShape, data: out)
    }
}
