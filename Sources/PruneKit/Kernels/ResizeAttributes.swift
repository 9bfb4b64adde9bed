/// A Resize or Upsample node's attributes, read once with ONNX's defaults for the opset, and
/// how they turn given scales or sizes into `ResizeParameters`. The interpreter, shape
/// inference and the dependency analysis all read a node through this, so they agree.
public struct ResizeAttributes: Sendable, Equatable {
    public var mode: ResizeMode
    public var coordinates: ResizeCoordinates
    /// The axes `scales` / `sizes` list (opset 18); nil: every axis.
    public var axes: [Int]?
    /// `keep_aspect_ratio_policy` (opset 18): `stretch`, `not_larger` or `not_smaller`.
    public var policy: String
    public var antialias: Bool

    /// Throws `KernelError` naming the attribute for what is not run: cubic mode,
    /// `tf_crop_and_resize` (its roi may crop any axis), unknown values.
    public init(_ node: Node, opset: Int) throws {
        let upsample = node.opType == "Upsample"
        let modeName = node.string("mode") ?? "nearest"
        let legacy = upsample || opset < 11
        switch modeName {
        case "nearest":
            let rule = legacy ? ResizeNearest.simple.rawValue : node.string("nearest_mode") ?? ResizeNearest.roundPreferFloor.rawValue
            guard let nearest = ResizeNearest(rawValue: rule), rule != "simple" || legacy else {
                throw KernelError.attribute("\(node.opType) nearest_mode \"\(rule)\"")
            }
            mode = .nearest(nearest)
        case "linear", "bilinear":
            mode = .linear
        case "cubic", "bicubic":
            throw KernelError.unsupported("\(node.opType) mode \"\(modeName)\" (only nearest and linear are run)")
        default:
            throw KernelError.attribute("\(node.opType) mode \"\(modeName)\"")
        }
        let transform = legacy ? ResizeCoordinates.asymmetric.rawValue : node.string("coordinate_transformation_mode") ?? ResizeCoordinates.halfPixel.rawValue
        guard let coordinates = ResizeCoordinates(rawValue: transform) else {
            if transform == "tf_crop_and_resize" {
                throw KernelError.unsupported("\(node.opType) coordinate_transformation_mode \"tf_crop_and_resize\"")
            }
            throw KernelError.attribute("\(node.opType) coordinate_transformation_mode \"\(transform)\"")
        }
        self.coordinates = coordinates
        axes = node.ints("axes")
        policy = node.string("keep_aspect_ratio_policy") ?? "stretch"
        guard ["stretch", "not_larger", "not_smaller"].contains(policy) else {
            throw KernelError.attribute("\(node.opType) keep_aspect_ratio_policy \"\(policy)\"")
        }
        antialias = (node.int("antialias") ?? 0) != 0
    }

    /// Axis positions `scales` / `sizes` refer to, for an input of `rank`.
    public func listedAxes(rank: Int) throws -> [Int] {
        guard let axes else { return Array(0..<rank) }
        let resolved = axes.map { $0 < 0 ? $0 + rank : $0 }
        guard resolved.allSatisfy({ $0 >= 0 && $0 < rank }), Set(resolved).count == resolved.count else {
            throw KernelError.attribute("Resize axes \(axes) for rank \(rank)")
        }
        return resolved
    }

    /// Scales (as the coordinate transform uses them) and output shape. With `scales`, each
    /// length is ⌊input·scale⌋; with `sizes`, the scale is output / input (or one scale for the
    /// listed axes under `not_larger` / `not_smaller`, lengths rounded).
    public func parameters(inputShape: [Int], scales given: [Float]?, sizes: [Int]?) throws -> ResizeParameters {
        let rank = inputShape.count
        let listed = try listedAxes(rank: rank)
        var scales = [Float](repeating: 1, count: rank)
        var shape = inputShape
        if let given, !given.isEmpty {
            guard given.count == listed.count else { throw KernelError.shape("Resize scales \(given) for axes \(listed)") }
            for (axis, s) in zip(listed, given) {
                guard s > 0, s.isFinite else { throw KernelError.attribute("Resize scale \(s) on axis \(axis)") }
                scales[axis] = s
                shape[axis] = Int((Float(inputShape[axis]) * s).rounded(.down))
            }
        } else if let sizes, !sizes.isEmpty {
            guard sizes.count == listed.count, sizes.allSatisfy({ $0 > 0 }) else { throw KernelError.shape("Resize sizes \(sizes) for axes \(listed)") }
            if policy == "stretch" {
                for (axis, n) in zip(listed, sizes) { shape[axis] = n; scales[axis] = Float(n) / Float(inputShape[axis]) }
            } else {
                let ratios = zip(listed, sizes).map { Float($1) / Float(inputShape[$0]) }
                let s = policy == "not_larger" ? ratios.min() ?? 1 : ratios.max() ?? 1
                for axis in listed { scales[axis] = s; shape[axis] = Int((s * Float(inputShape[axis])).rounded()) }
            }
        } else {
            throw KernelError.shape("Resize needs scales or sizes")
        }
        if antialias, case .linear = mode, scales.contains(where: { $0 < 1 }) {
            throw KernelError.unsupported("Resize antialias=1 when shrinking")
        }
        guard shape.allSatisfy({ $0 > 0 }) else { throw KernelError.shape("Resize of \(inputShape) gives an empty \(shape)") }
        return ResizeParameters(mode: mode, coordinates: coordinates, scales: scales, outputShape: shape)
    }
}
