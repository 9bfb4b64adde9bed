/// Stochastic gradient descent with momentum and weight decay, step for step what
/// `torch.optim.SGD(params, lr, momentum, weight_decay)` does (no dampening, not Nesterov):
///
///     g ← ∇ + λ·p;   v ← g on the first step, μ·v + g after;   p ← p − η·v
///
/// so that a recipe tuned in PyTorch carries over unchanged.
public struct SGD: Sendable {
    public var momentum: Float
    public var weightDecay: Float
    /// The momentum buffer of every parameter stepped so far.
    public private(set) var velocity: [String: [Float]] = [:]

    public init(momentum: Float = 0.9, weightDecay: Float = 5e-4) {
        self.momentum = momentum
        self.weightDecay = weightDecay
    }

    /// Updates every parameter that has a gradient; the gradient must have the parameter's shape.
    public mutating func step(_ parameters: inout [String: NDArray<Float>], gradients: [String: NDArray<Float>], learningRate: Float) {
        for (name, gradient) in gradients {
            guard var p = parameters[name] else { continue }
            precondition(p.shape == gradient.shape, "gradient of '\(name)' has shape \(gradient.shape), the parameter \(p.shape)")
            let first = velocity[name] == nil
            var v = velocity.removeValue(forKey: name) ?? [Float](repeating: 0, count: p.count)
            let (mu, lambda) = (momentum, weightDecay)
            p.storage.withUnsafeMutableBufferPointer { w in
                v.withUnsafeMutableBufferPointer { buffer in
                    gradient.storage.withUnsafeBufferPointer { g in
                        for i in 0..<w.count {
                            let d = g[i] + lambda * w[i]
                            buffer[i] = first || mu == 0 ? d : mu * buffer[i] + d
                            w[i] -= learningRate * buffer[i]
                        }
                    }
                }
            }
            velocity[name] = v
            parameters[name] = p
        }
    }
}
