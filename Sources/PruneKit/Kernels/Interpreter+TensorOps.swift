/// Node adapters for the ops exported graphs use around reshapes (shape arithmetic on Int64)
/// and for layout changes; each works on float and integer values alike.
extension Interpreter {
    static func constant(_ c: OpContext) throws -> [Value] {
        switch c.node.attributes.first?.value {
        case let .tensor(t)?: return [try Value(checking: t)]
        case let .float(v)?: return [.float(NDArray(scalar: v))]
        case let .floats(v)?: return [.float(NDArray(uncheckedShape: [v.count], storage: v))]
        case let .int(v)?: return [.integer(NDArray(scalar: Int64(v)), .i64)]
        case let .ints(v)?: return [.integer(NDArray(uncheckedShape: [v.count], storage: v.map(Int64.init)), .i64)]
        default:
            let name = c.node.attributes.first?.name ?? "no attribute"
            throw KernelError.unsupported("Constant with \(name)")
        }
    }

    /// Shape with opset-15 `start`/`end` (negative counts from the end, clamped).
    static func shapeNode(_ c: OpContext) throws -> [Value] {
        let shape = try c.value(0).shape
        func clamp(_ i: Int) -> Int { min(max(i < 0 ? i + shape.count : i, 0), shape.count) }
        let start = clamp(try c.int("start", 0))
        let end = max(start, clamp(try c.int("end", shape.count)))
        let dims = shape[start..<end].map { Int64($0) }
        return [.integer(NDArray(uncheckedShape: [dims.count], storage: dims), .i64)]
    }

    static func gather(_ c: OpContext) throws -> [Value] {
        let indices = try c.value(1).integers
        let axis = try c.int("axis", 0)
        return [try c.value(0).map({ try $0.gathered(indices: indices, axis: axis) }, { try $0.gathered(indices: indices, axis: axis) })]
    }

    static func unsqueeze(_ c: OpContext) throws -> [Value] {
        guard let axes = try c.axes(input: 1, attribute: "axes") else { throw KernelError.attribute("Unsqueeze needs axes") }
        return [try c.value(0).map({ try $0.unsqueezed(axes: axes) }, { try $0.unsqueezed(axes: axes) })]
    }

    static func squeeze(_ c: OpContext) throws -> [Value] {
        let axes = try c.axes(input: 1, attribute: "axes")
        return [try c.value(0).map({ try $0.squeezed(axes: axes) }, { try $0.squeezed(axes: axes) })]
    }

    /// Integer inputs concatenate as integers (building a shape); otherwise in F32.
    static func concat(_ c: OpContext) throws -> [Value] {
        guard let axis = try c.ints("axis")?.first else { throw KernelError.attribute("Concat needs axis") }
        let parts = try c.inputs.indices.filter(c.has).map { try c.value($0) }
        let ints: [NDArray<Int64>] = parts.compactMap { if case let .integer(a, _) = $0 { return a } else { return nil } }
        if ints.count == parts.count, case let .integer(_, dtype)? = parts.first {
            return [.integer(try .concatenated(ints, axis: axis), dtype)]
        }
        return [.float(try .concatenated(parts.map(\.floats), axis: axis))]
    }

    /// Opset ≥ 10 takes starts, ends, axes, steps as inputs; older opsets as attributes.
    static func slice(_ c: OpContext) throws -> [Value] {
        let starts: [Int], ends: [Int], axes: [Int]?, steps: [Int]?
        if c.opset < 10 || !c.has(1) {
            guard let s = try c.ints("starts"), let e = try c.ints("ends") else {
                throw KernelError.attribute("Slice needs starts and ends")
            }
            (starts, ends, axes, steps) = (s, e, try c.ints("axes"), nil)
        } else {
            (starts, ends, axes, steps) = (try c.ints(1), try c.ints(2), try c.optionalInts(3), try c.optionalInts(4))
        }
        let x = try c.value(0)
        return [try x.map({ try $0.sliced(starts: starts, ends: ends, axes: axes, steps: steps) },
                          { try $0.sliced(starts: starts, ends: ends, axes: axes, steps: steps) })]
    }

    /// Float → integer truncates toward zero (saturating); → F16/BF16 rounds to that precision.
    static func cast(_ c: OpContext) throws -> [Value] {
        let code = try c.int("to", 0)
        guard let to = DType(onnxCode: code) else { throw KernelError.unsupported("Cast to ONNX type \(code)") }
        let x = try c.value(0)
        switch to {
        case .f32, .f64:
            return [.float(x.floats)]
        case .f16, .bf16:
            return [.float(NDArray(Tensor(shape: x.shape, floats: x.floats.storage, dtype: to)))]
        case .i64, .i32, .i8, .u8, .bool:
            // Round-trip through the target's width so narrowing wraps as the stored type would.
            return [.integer(NDArray<Int64>(Tensor(x.integers, dtype: to)), to)]
        }
    }

    /// `value` is a one-element tensor (F32 0 when absent).
    static func constantOfShape(_ c: OpContext) throws -> [Value] {
        let shape = try c.ints(0)
        let fill = c.node.tensor("value") ?? Tensor(shape: [1], floats: [0])
        guard fill.count == 1 else { throw KernelError.attribute("ConstantOfShape value has \(fill.count) elements") }
        guard Tensor.elementCount(shape) != nil else { throw KernelError.shape("ConstantOfShape of invalid shape \(shape)") }
        switch try Value(checking: fill) {
        case let .float(v): return [.float(try NDArray(repeating: v.storage[0], shape: shape))]
        case let .integer(v, dtype): return [.integer(try NDArray(repeating: v.storage[0], shape: shape), dtype)]
        }
    }

    static func transpose(_ c: OpContext) throws -> [Value] {
        let perm = try c.ints("perm")
        return [try c.value(0).map({ try $0.transposed(perm) }, { try $0.transposed(perm) })]
    }

    /// Opset ≥ 5 takes the shape as input 1; older opsets as the `shape` attribute.
    static func reshape(_ c: OpContext) throws -> [Value] {
        guard let spec = try c.has(1) ? c.ints(1) : c.ints("shape") else { throw KernelError.attribute("Reshape needs a shape") }
        let allowZero = try c.bool("allowzero")
        return [try c.value(0).map({ try $0.reshaped(to: spec, allowZero: allowZero) },
                                   { try $0.reshaped(to: spec, allowZero: allowZero) })]
    }

    static func flatten(_ c: OpContext) throws -> [Value] {
        let axis = try c.int("axis", 1)
        return [try c.value(0).map({ try $0.flattened(axis: axis) }, { try $0.flattened(axis: axis) })]
    }

    /// The input broadcast with the given shape (which may itself have 1s the input fills).
    static func expand(_ c: OpContext) throws -> [Value] {
        let x = try c.value(0)
        let target = try c.ints(1)
        guard let shape = broadcastShape(x.shape, target) else {
            throw KernelError.shape("cannot expand \(x.shape) to \(target)")
        }
        return [try x.map({ try $0.broadcast(to: shape) }, { try $0.broadcast(to: shape) })]
    }

    /// Axes as attribute (opset < 18) or input 1 (18+); none means all, unless noop_with_empty_axes.
    static func reduceMean(_ c: OpContext) throws -> [Value] {
        let x = try c.floats(0)
        var axes = try c.axes(input: 1, attribute: "axes")
        if axes?.isEmpty == true {
            if try c.bool("noop_with_empty_axes") { return [.float(x)] }
            axes = nil
        }
        return [.float(try x.reducedMean(axes: axes, keepDims: try c.int("keepdims", 1) != 0))]
    }
}
