/// Node adapters for Resize (opset 10: X, scales; 11+: X, roi, scales, sizes) and the older
/// Upsample (opset 7: a `scales` attribute; 9: X, scales).
extension Interpreter {
    /// The node's parameters for its actual input: shared by the forward and its gradient rule.
    static func resizeParameters(_ c: OpContext) throws -> ResizeParameters {
        let x = try c.value(0)
        let attributes = try ResizeAttributes(c.node, opset: c.opset)
        if c.node.opType == "Upsample" {
            let scales: [Float]
            if c.has(1) {
                scales = try c.floats(1).storage
            } else if case let .floats(v)? = c.node[attribute: "scales"] {
                scales = v
            } else {
                throw KernelError.attribute("Upsample needs scales")
            }
            return try attributes.parameters(inputShape: x.shape, scales: scales, sizes: nil)
        }
        let scaleSlot = c.opset < 11 ? 1 : 2
        let scales = c.has(scaleSlot) ? try c.floats(scaleSlot).storage : nil
        let sizes = c.opset >= 11 && c.has(3) ? try c.ints(3) : nil
        if let scales, !scales.isEmpty, let sizes, !sizes.isEmpty {
            throw KernelError.attribute("Resize has both scales and sizes")
        }
        return try attributes.parameters(inputShape: x.shape, scales: scales, sizes: sizes)
    }

    static func resizeNode(_ c: OpContext) throws -> [Value] {
        [.float(try resize(try c.floats(0), try resizeParameters(c)))]
    }
}
