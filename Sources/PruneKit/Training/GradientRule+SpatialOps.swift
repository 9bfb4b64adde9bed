/// Gradient rules for the channel-wise ops that change the spatial layout (Resize, Upsample,
/// Pad: only the data input is differentiated; scales, sizes, roi and pads are constants of the
/// architecture), InstanceNormalization and LayerNormalization (input, scale and bias).
extension GradientRule {
    static let spatialRules: [String: GradientRule] = {
        let resize = GradientRule(slots: [0]) { c in
            let x = try c.op.floats(0)
            return [try resizeBackward(gradOutput: c.gradOutput, inputShape: x.shape, try Interpreter.resizeParameters(c.op))]
        }
        let pad = GradientRule(slots: [0]) { c in
            let x = try c.op.floats(0)
            return [try padBackward(gradOutput: c.gradOutput, inputShape: x.shape, try Interpreter.padParameters(c.op))]
        }
        let instanceNorm = GradientRule(slots: [0, 1, 2]) { c in
            let g = try instanceNormalizationBackward(c.op.floats(0), scale: c.op.floats(1), epsilon: try c.op.float("epsilon", 1e-5),
                                                      gradOutput: c.gradOutput)
            return [g.input, g.scale, g.bias]
        }
        let layerNorm = GradientRule(slots: [0, 1, 2]) { c in
            let g = try layerNormalizationBackward(c.op.floats(0), scale: c.op.floats(1), axis: try c.op.int("axis", -1),
                                                   epsilon: try c.op.float("epsilon", 1e-5), gradOutput: c.gradOutput)
            return [g.input, g.scale, g.bias]
        }
        return ["Resize": resize, "Upsample": resize, "Pad": pad, "InstanceNormalization": instanceNorm,
                "LayerNormalization": layerNorm]
    }()
}
