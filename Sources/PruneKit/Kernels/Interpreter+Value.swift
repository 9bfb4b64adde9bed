extension Interpreter {
    /// A value flowing through the graph: floating point (computed in F32 whatever the file's
    /// dtype) or integer/bool (shapes, indices, masks), which keeps its dtype for output.
    enum Value {
        case float(NDArray<Float>)
        case integer(NDArray<Int64>, DType)

        /// Decodes a tensor from outside the kernels (input, initializer, attribute). `Tensor`'s
        /// fields are mutable, so its shape and byte count are checked again before decoding.
        init(checking tensor: Tensor) throws {
            guard let n = Tensor.elementCount(tensor.shape) else {
                throw KernelError.shape("invalid tensor shape \(tensor.shape)")
            }
            let (bytes, overflow) = n.multipliedReportingOverflow(by: tensor.dtype.size)
            guard !overflow, bytes == tensor.data.count else {
                throw KernelError.shape("shape \(tensor.shape) of \(tensor.dtype.rawValue) needs \(n) elements, data has \(tensor.data.count) bytes")
            }
            self = tensor.dtype.isFloatingPoint ? .float(NDArray(tensor)) : .integer(NDArray(tensor), tensor.dtype)
        }

        var tensor: Tensor {
            switch self {
            case let .float(a): return Tensor(a)
            case let .integer(a, dtype): return Tensor(a, dtype: dtype)
            }
        }

        var shape: [Int] {
            switch self {
            case let .float(a): return a.shape
            case let .integer(a, _): return a.shape
            }
        }

        var floats: NDArray<Float> {
            switch self {
            case let .float(a): return a
            case let .integer(a, _): return NDArray(uncheckedShape: a.shape, storage: a.storage.map { Float($0) })
            }
        }

        /// Integer view; floats truncate toward zero, saturating (NaN becomes 0).
        var integers: NDArray<Int64> {
            switch self {
            case let .integer(a, _): return a
            case let .float(a): return NDArray(uncheckedShape: a.shape, storage: a.storage.map(Value.saturatingInt64))
            }
        }

        static func saturatingInt64(_ x: Float) -> Int64 {
            if x.isNaN { return 0 }
            if x >= 9.223372e18 { return .max }
            if x <= -9.223372e18 { return .min }
            return Int64(x)
        }

        /// Applies a layout op to either kind, keeping the kind.
        func map(_ floatOp: (NDArray<Float>) throws -> NDArray<Float>,
                 _ intOp: (NDArray<Int64>) throws -> NDArray<Int64>) rethrows -> Value {
            switch self {
            case let .float(a): return .float(try floatOp(a))
            case let .integer(a, dtype): return .integer(try intOp(a), dtype)
            }
        }
    }
}
