/// Builder helpers for channels-last blocks (ConvNeXt): permutes, LayerNorm over the last
/// axis, a linear layer on the last axis as PyTorch exports `nn.Linear` of a 4-D tensor
/// (MatMul by the transposed weight, then a bias Add), and a ConvNeXt block.
extension GraphBuilder {
    public mutating func transpose(_ x: String, perm: [Int]) -> String {
        let s = shape(x)
        return node("Transpose", [x], outputShape: perm.map { s[$0] }, attributes: [Attribute("perm", .ints(perm))])
    }

    /// `nn.LayerNorm(C)` over the last axis.
    public mutating func layerNorm(_ x: String, name: String, epsilon: Float = 1e-6) -> String {
        let c = shape(x).last!
        let scale = constant("\(name).weight", uniform([c], bound: 0.5, center: 1))
        let bias = constant("\(name).bias", uniform([c], bound: 0.1))
        return node("LayerNormalization", [x, scale, bias], outputShape: shape(x),
                    attributes: [Attribute("axis", .int(-1)), Attribute("epsilon", .float(epsilon))], name: name)
    }

    /// `nn.Linear` applied to the last axis of a tensor of any rank: MatMul by [in, out], + bias.
    public mutating func lastAxisLinear(_ x: String, out: Int, name: String) -> String {
        var s = shape(x)
        let w = constant("\(name).weight_t", uniform([s.last!, out], bound: (6 / Float(s.last!)).squareRoot()))
        s[s.count - 1] = out
        let y = node("MatMul", [x, w], outputShape: s, name: "\(name).matmul")
        return node("Add", [y, constant("\(name).bias", uniform([out], bound: 0.1))], outputShape: s, name: name)
    }

    /// torchvision's CNBlock: depthwise 7×7 (here `kernel`), permute to channels last,
    /// LayerNorm, Linear C→4C, GELU, Linear 4C→C, permute back, layer scale γ [C, 1, 1],
    /// residual add.
    public mutating func convNeXtBlock(_ x: String, kernel: Int = 3, name: String) -> String {
        let c = shape(x)[1]
        var h = conv(x, out: c, kernel: kernel, group: c, name: "\(name).dwconv")
        h = transpose(h, perm: [0, 2, 3, 1])
        h = layerNorm(h, name: "\(name).norm")
        h = lastAxisLinear(h, out: 4 * c, name: "\(name).pwconv1")
        h = node("Gelu", [h], outputShape: shape(h))
        h = lastAxisLinear(h, out: c, name: "\(name).pwconv2")
        h = transpose(h, perm: [0, 3, 1, 2])
        h = node("Mul", [constant("\(name).layer_scale", uniform([c, 1, 1], bound: 0.5, center: 1)), h], outputShape: shape(h))
        return add(h, x)
    }
}
