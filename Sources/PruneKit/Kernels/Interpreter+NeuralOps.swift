/// Node adapters for the float ops: read ONNX attributes (with their defaults), call the kernel.
extension Interpreter {
    /// strides, pads and dilations of a 1-D or 2-D window op, widened to 2-D (a 1-D op runs as
    /// 2-D over a height of 1).
    static func window(_ c: OpContext, spatialRank r: Int) throws -> (strides: [Int], pads: [Int], dilations: [Int]) {
        let strides = try c.ints("strides") ?? [Int](repeating: 1, count: r)
        let pads = try c.ints("pads") ?? [Int](repeating: 0, count: 2 * r)
        let dilations = try c.ints("dilations") ?? [Int](repeating: 1, count: r)
        try requireCount(strides, r, "strides")
        try requireCount(pads, 2 * r, "pads")
        try requireCount(dilations, r, "dilations")
        if r == 1 { return ([1, strides[0]], [0, pads[0], 0, pads[1]], [1, dilations[0]]) }
        return (strides, pads, dilations)
    }

    /// Reads a 1-D (N×C×L) array as N×C×1×L; 2-D passes through; other ranks are not run.
    static func as2D(_ x: NDArray<Float>, _ what: String) throws -> NDArray<Float> {
        switch x.rank {
        case 4: return x
        case 3: return x.reshaped(uncheckedTo: [x.shape[0], x.shape[1], 1, x.shape[2]])
        default: throw KernelError.unsupported("\(what) of rank \(x.rank) (only 1-D and 2-D spatial)")
        }
    }

    static func restoreRank(_ y: NDArray<Float>, _ rank: Int) -> NDArray<Float> {
        rank == 3 ? y.reshaped(uncheckedTo: [y.shape[0], y.shape[1], y.shape[3]]) : y
    }

    static func conv(_ c: OpContext) throws -> [Value] {
        let x = try c.floats(0)
        let w = try c.floats(1)
        guard w.rank == x.rank else { throw KernelError.shape("Conv weight \(w.shape) and input \(x.shape) differ in rank") }
        if let k = try c.ints("kernel_shape"), k != Array(w.shape.dropFirst(2)) {
            throw KernelError.shape("kernel_shape \(k) does not match weight \(w.shape)")
        }
        let win = try window(c, spatialRank: x.rank - 2)
        let p = Conv2DParameters(strides: win.strides, pads: win.pads, dilations: win.dilations,
                                 group: try c.int("group", 1), autoPad: try c.autoPad())
        let y = try conv2d(try as2D(x, "Conv input"), weight: try as2D(w, "Conv weight"), bias: c.optionalFloats(2), p)
        return [.float(restoreRank(y, x.rank))]
    }

    static func batchNorm(_ c: OpContext) throws -> [Value] {
        if try c.bool("training_mode") { throw KernelError.unsupported("BatchNormalization training_mode=1") }
        if try c.int("spatial", 1) == 0 { throw KernelError.unsupported("BatchNormalization spatial=0") }
        let mean = try c.floats(3)
        let variance = try c.floats(4)
        let y = try batchNormalization(try c.floats(0), scale: try c.floats(1), bias: try c.floats(2),
                                       mean: mean, variance: variance, epsilon: try c.float("epsilon", 1e-5))
        // Optional outputs of old opsets: in inference the running statistics pass through.
        return [.float(y), .float(mean), .float(variance)]
    }

    static func poolParameters(_ c: OpContext, rank: Int) throws -> Pool2DParameters {
        guard let kernel = try c.ints("kernel_shape") else { throw KernelError.attribute("kernel_shape is required") }
        try requireCount(kernel, rank - 2, "kernel_shape")
        let win = try window(c, spatialRank: rank - 2)
        return Pool2DParameters(kernel: rank == 3 ? [1, kernel[0]] : kernel, strides: win.strides, pads: win.pads,
                                dilations: win.dilations, ceilMode: try c.bool("ceil_mode"),
                                countIncludePad: try c.bool("count_include_pad"), autoPad: try c.autoPad())
    }

    static func maxPool(_ c: OpContext) throws -> [Value] {
        let x = try c.floats(0)
        let x2 = try as2D(x, "MaxPool input")
        let (values, indices) = try maxPool2d(x2, try poolParameters(c, rank: x.rank),
                                              columnMajorIndices: try c.int("storage_order", 0) == 1)
        let idx = x.rank == 3 ? indices.reshaped(uncheckedTo: [indices.shape[0], indices.shape[1], indices.shape[3]]) : indices
        return [.float(restoreRank(values, x.rank)), .integer(idx, .i64)]
    }

    static func averagePool(_ c: OpContext) throws -> [Value] {
        let x = try c.floats(0)
        let y = try averagePool2d(try as2D(x, "AveragePool input"), try poolParameters(c, rank: x.rank))
        return [.float(restoreRank(y, x.rank))]
    }

    static func gemmNode(_ c: OpContext) throws -> [Value] {
        let y = try gemm(try c.floats(0), try c.floats(1), c: c.optionalFloats(2),
                         alpha: try c.float("alpha", 1), beta: try c.float("beta", 1),
                         transA: try c.bool("transA"), transB: try c.bool("transB"))
        return [.float(y)]
    }

    /// Opset < 13 normalizes over everything from `axis` on (default 1); 13+ over one axis (default −1).
    static func softmaxNode(_ c: OpContext, log: Bool) throws -> [Value] {
        let legacy = c.opset < 13
        let axis = try c.int("axis", legacy ? 1 : -1)
        return [.float(try softmax(try c.floats(0), axis: axis, coerceTo2D: legacy, log: log))]
    }

    /// Bounds come from inputs 1 and 2 (opset ≥ 11) or the min/max attributes (older).
    static func clip(_ c: OpContext) throws -> [Value] {
        func bound(_ i: Int, _ name: String, _ fallback: Float) throws -> Float {
            guard c.has(i) else { return try c.float(name, fallback) }
            let v = try c.floats(i)
            guard v.count == 1 else { throw KernelError.shape("Clip bound #\(i) has shape \(v.shape), expected a scalar") }
            return v.storage[0]
        }
        let lo = try bound(1, "min", -.infinity)
        let hi = try bound(2, "max", .infinity)
        if case let .integer(x, dtype) = try c.value(0) {
            let (l, h) = (Value.saturatingInt64(lo.rounded(.up)), Value.saturatingInt64(hi.rounded(.down)))
            return [.integer(NDArray(uncheckedShape: x.shape, storage: x.storage.map { min(max($0, l), h) }), dtype)]
        }
        return [.float(try c.floats(0).applying(.clip(min: lo, max: hi)))]
    }

    /// Inference: the input passes through and the optional mask keeps everything.
    static func dropout(_ c: OpContext) throws -> [Value] {
        if c.has(2), try c.value(2).integers.storage.contains(where: { $0 != 0 }) {
            throw KernelError.unsupported("Dropout with training_mode=true")
        }
        let x = try c.value(0)
        let mask = NDArray<Int64>(uncheckedShape: x.shape, storage: [Int64](repeating: 1, count: x.shape.reduce(1, *)))
        return [x, .integer(mask, .bool)]
    }

    /// Integer operands stay integer (shape arithmetic); anything else computes in F32.
    static func binary(_ op: BinaryOp, _ c: OpContext) throws -> [Value] {
        let (a, b) = (try c.value(0), try c.value(1))
        if case let .integer(x, dtype) = a, case let .integer(y, _) = b {
            return [.integer(try broadcasting(op, x, y), dtype)]
        }
        return [.float(try broadcasting(op, a.floats, b.floats))]
    }
}
