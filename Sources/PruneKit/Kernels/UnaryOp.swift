import Foundation

/// Elementwise functions of one value: the ONNX activations and the math ops exported graphs
/// decompose them into (Gelu before opset 20 is Erf, Mul, Add; Sqrt appears in norms).
public enum UnaryOp: Sendable, Equatable {
    case relu
    case leakyRelu(alpha: Float)
    case sigmoid
    case tanh
    case clip(min: Float, max: Float)
    case hardSigmoid(alpha: Float, beta: Float)
    case hardSwish
    case elu(alpha: Float)
    case selu(alpha: Float, gamma: Float)
    /// `tanhApproximation` is ONNX `approximate="tanh"`; otherwise the exact erf form.
    case gelu(tanhApproximation: Bool)
    case identity
    /// ln(1 + eˣ); Mish is x·tanh(softplus(x)); Softsign x / (1 + |x|).
    case softplus, mish, softsign
    case erf, exp, log, sqrt, reciprocal, neg, abs, floor, ceil

    public func callAsFunction(_ x: Float) -> Float {
        switch self {
        case .relu: return x > 0 ? x : 0
        case let .leakyRelu(alpha): return x >= 0 ? x : alpha * x
        case .sigmoid: return 1 / (1 + Foundation.exp(-x))
        case .tanh: return Foundation.tanh(x)
        case let .clip(lo, hi): return Swift.min(Swift.max(x, lo), hi)
        case let .hardSigmoid(alpha, beta): return Swift.max(0, Swift.min(1, alpha * x + beta))
        case .hardSwish: return x * Swift.max(0, Swift.min(1, x / 6 + 0.5))
        case let .elu(alpha): return x >= 0 ? x : alpha * (Foundation.exp(x) - 1)
        case let .selu(alpha, gamma): return x > 0 ? gamma * x : gamma * alpha * (Foundation.exp(x) - 1)
        case let .gelu(tanhApproximation):
            if tanhApproximation {
                let inner = Float(0.7978845608028654) * (x + 0.044715 * x * x * x)  // √(2/π)
                return 0.5 * x * (1 + Foundation.tanh(inner))
            }
            return 0.5 * x * (1 + Foundation.erf(x * Float(0.7071067811865476)))  // 1/√2
        case .identity: return x
        case .softplus: return Self.softplus(x)
        case .mish: return x * Foundation.tanh(Self.softplus(x))
        case .softsign: return x / (1 + Swift.abs(x))
        case .erf: return Foundation.erf(x)
        case .exp: return Foundation.exp(x)
        case .log: return Foundation.log(x)
        case .sqrt: return x.squareRoot()
        case .reciprocal: return 1 / x
        case .neg: return -x
        case .abs: return Swift.abs(x)
        case .floor: return x.rounded(.down)
        case .ceil: return x.rounded(.up)
        }
    }

    /// Without overflow for large |x|: max(x, 0) + ln(1 + e^−|x|).
    static func softplus(_ x: Float) -> Float { Swift.max(x, 0) + Foundation.log1p(Foundation.exp(-Swift.abs(x))) }

    /// ONNX defaults for each op's attributes.
    public static let defaultLeakyReluAlpha: Float = 0.01
    public static let defaultHardSigmoid: (alpha: Float, beta: Float) = (0.2, 0.5)
    public static let defaultSelu: (alpha: Float, gamma: Float) = (1.67326319217681884765625, 1.05070102214813232421875)
}

extension NDArray where Element == Float {
    public func applying(_ op: UnaryOp) -> NDArray {
        if op == .identity { return self }
        return NDArray(uncheckedShape: shape, storage: storage.map { op($0) })
    }
}
