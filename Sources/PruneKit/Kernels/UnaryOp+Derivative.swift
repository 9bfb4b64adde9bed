import Foundation

extension UnaryOp {
    /// f′(x). At a kink the one-sided value PyTorch uses (ReLU′(0) = 0; Clip passes gradient at
    /// its bounds); Floor and Ceil are flat almost everywhere, so 0.
    public func derivative(at x: Float) -> Float {
        switch self {
        case .relu: return x > 0 ? 1 : 0
        case let .leakyRelu(alpha): return x >= 0 ? 1 : alpha
        case .sigmoid:
            let s = self(x)
            return s * (1 - s)
        case .tanh:
            let t = Foundation.tanh(x)
            return 1 - t * t
        case let .clip(lo, hi): return x >= lo && x <= hi ? 1 : 0
        case let .hardSigmoid(alpha, beta):
            let z = alpha * x + beta
            return z > 0 && z < 1 ? alpha : 0
        case .hardSwish:
            if x <= -3 { return 0 }
            if x >= 3 { return 1 }
            return x / 3 + 0.5
        case let .elu(alpha): return x >= 0 ? 1 : alpha * Foundation.exp(x)
        case let .selu(alpha, gamma): return x > 0 ? gamma : gamma * alpha * Foundation.exp(x)
        case let .gelu(tanhApproximation):
            if tanhApproximation {
                let c = Float(0.7978845608028654)  // √(2/π)
                let t = Foundation.tanh(c * (x + 0.044715 * x * x * x))
                return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * c * (1 + 3 * 0.044715 * x * x)
            }
            let cdf = 0.5 * (1 + Foundation.erf(x * Float(0.7071067811865476)))
            let pdf = Float(0.3989422804014327) * Foundation.exp(-0.5 * x * x)  // 1/√(2π)
            return cdf + x * pdf
        case .identity: return 1
        case .softplus: return 1 / (1 + Foundation.exp(-x))
        case .mish:
            let t = Foundation.tanh(Self.softplus(x))
            return t + x * (1 - t * t) / (1 + Foundation.exp(-x))
        case .softsign:
            let d = 1 + Swift.abs(x)
            return 1 / (d * d)
        case .erf: return Float(1.1283791670955126) * Foundation.exp(-x * x)  // 2/√π
        case .exp: return Foundation.exp(x)
        case .log: return 1 / x
        case .sqrt: return 0.5 / x.squareRoot()
        case .reciprocal: return -1 / (x * x)
        case .neg: return -1
        case .abs: return x > 0 ? 1 : (x < 0 ? -1 : 0)
        case .floor, .ceil: return 0
        }
    }
}

extension NDArray where Element == Float {
    /// The gradient of `applying(op)` at `self` given the output's gradient: dy·f′(x).
    public func applyingBackward(_ op: UnaryOp, gradOutput dy: NDArray<Float>) throws -> NDArray<Float> {
        guard dy.shape == shape else { throw KernelError.shape("output gradient \(dy.shape) does not match the input \(shape)") }
        if op == .identity { return dy }
        return NDArray(uncheckedShape: shape, storage: zip(storage, dy.storage).map { op.derivative(at: $0) * $1 })
    }
}
