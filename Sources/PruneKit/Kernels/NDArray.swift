import Foundation

/// A dense row-major array of typed elements: what the kernels compute on.
///
/// `Tensor` keeps a model's bytes in their file dtype; the forward pass decodes once into an
/// `NDArray<Float>` (or `NDArray<Int64>` for shape and index values) and works on that.
public struct NDArray<Element: Sendable>: Sendable {
    public internal(set) var shape: [Int]
    /// Row-major values; `storage.count` is always the product of `shape` (which is why only
    /// code inside PruneKit may assign either).
    public internal(set) var storage: [Element]

    /// Throws when `storage` does not hold exactly the elements `shape` describes.
    public init(shape: [Int], storage: [Element]) throws {
        guard let n = Tensor.elementCount(shape) else { throw KernelError.shape("invalid shape \(shape)") }
        guard n == storage.count else {
            throw KernelError.shape("shape \(shape) needs \(n) values, got \(storage.count)")
        }
        self.shape = shape
        self.storage = storage
    }

    /// For kernels that computed `storage` for `shape` themselves.
    init(uncheckedShape shape: [Int], storage: [Element]) {
        assert(Tensor.elementCount(shape) == storage.count)
        self.shape = shape
        self.storage = storage
    }

    public init(repeating value: Element, shape: [Int]) throws {
        self.init(uncheckedShape: shape, storage: [Element](repeating: value, count: try resultCount(shape)))
    }

    /// A rank-0 array.
    public init(scalar: Element) { self.init(uncheckedShape: [], storage: [scalar]) }

    public var rank: Int { shape.count }
    public var count: Int { storage.count }

    /// Same values, new shape of the same element count.
    func reshaped(uncheckedTo newShape: [Int]) -> NDArray {
        NDArray(uncheckedShape: newShape, storage: storage)
    }
}

extension NDArray: Equatable where Element: Equatable {}

/// Results larger than this are refused: only absurd attributes (pads, a ConstantOfShape
/// shape) produce them, and they must fail the node rather than exhaust memory.
let maxResultElements = 1 << 32

/// The element count of a result about to be allocated, or an error for a negative,
/// overflowing or absurdly large shape.
func resultCount(_ shape: [Int]) throws -> Int {
    guard let n = Tensor.elementCount(shape) else { throw KernelError.shape("invalid result shape \(shape)") }
    guard n <= maxResultElements else { throw KernelError.shape("result shape \(shape) has \(n) elements, more than \(maxResultElements)") }
    return n
}

extension NDArray where Element == Float {
    /// Decodes any dtype to F32.
    public init(_ tensor: Tensor) {
        self.init(uncheckedShape: tensor.shape, storage: tensor.floats())
    }
}

extension NDArray where Element == Int64 {
    /// Reads integer (and bool) tensors exactly; floats are truncated.
    public init(_ tensor: Tensor) {
        self.init(uncheckedShape: tensor.shape, storage: tensor.int64s())
    }
}

extension Tensor {
    /// An F32 tensor of the array's values.
    public init(_ array: NDArray<Float>) {
        try! self.init(dtype: .f32, shape: array.shape, data: array.storage.withUnsafeBytes { Data($0) })
    }

    /// An integer or bool tensor of the array's values, wrapped to `dtype`'s width.
    public init(_ array: NDArray<Int64>, dtype: DType = .i64) {
        let values = array.storage
        let data: Data
        switch dtype {
        case .i64: data = values.withUnsafeBytes { Data($0) }
        case .i32: data = values.map { Int32(truncatingIfNeeded: $0) }.withUnsafeBytes { Data($0) }
        case .i8: data = values.map { Int8(truncatingIfNeeded: $0) }.withUnsafeBytes { Data($0) }
        case .u8: data = Data(values.map { UInt8(truncatingIfNeeded: $0) })
        case .bool: data = Data(values.map { $0 != 0 ? 1 : 0 })
        case .f32, .f64, .f16, .bf16:
            self.init(shape: array.shape, floats: values.map { Float($0) }, dtype: dtype)
            return
        }
        try! self.init(dtype: dtype, shape: array.shape, data: data)
    }
}
