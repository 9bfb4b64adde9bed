import Foundation
import PruneKit

/// Finite-difference checks of a `TrainableGraph`'s parameter gradients: each sampled
/// parameter element is perturbed through `state`, the whole forward rerun, and the loss
/// (computed in Double from the graph's one output) differenced.
enum GraphGradientCheck {
    typealias Loss = (NDArray<Float>) throws -> (value: Double, gradient: NDArray<Float>)

    /// The worst error (as `GradientCheck.error`) of each parameter's gradient, over
    /// `samples` seeded random elements per parameter (all elements when nil).
    static func errors(_ trainable: TrainableGraph, inputs: [String: NDArray<Float>], mode: ForwardMode,
                       loss: Loss, samples: Int? = nil, step: Float = 1e-2,
                       absolute: Double = 2e-3, relative: Double = 1e-2) throws -> [String: Double] {
        let state = trainable.initialState()
        let output = trainable.graph.outputs[0].name
        let pass = try trainable.forward(inputs: inputs, state: state, mode: mode)
        let seed = try loss(pass.outputs[output]!).gradient
        let gradients = try trainable.backward(pass, seeds: [output: seed])
        var rng = Xoshiro256StarStar(seed: 77)
        var errors: [String: Double] = [:]
        for name in trainable.parameterNames {
            let value = state[name]!
            let elements = samples.map { n in (0..<min(n, value.count)).map { _ in rng.nextInt(below: value.count) } }
            let numeric = try GradientCheck.numerical(value, step: step, at: elements) { probe in
                var perturbed = state
                perturbed[name] = probe
                let y = try trainable.forward(inputs: inputs, state: perturbed, mode: mode).outputs[output]!
                return try loss(y).value
            }
            let analytic = (elements ?? Array(0..<value.count)).map { gradients[name]!.storage[$0] }
            errors[name] = GradientCheck.error(analytic, numeric, absolute: absolute, relative: relative)
        }
        return errors
    }

    /// Σ r·y with r seeded random values of y's shape.
    static func projection(seed: UInt64 = 99) -> Loss {
        { y in
            let r = KernelFixtures.random(y.shape, seed: seed)
            return (GradientCheck.dot(y, r), r)
        }
    }

    /// Mean cross-entropy in Double; the gradient from the kernel under test elsewhere.
    static func crossEntropy(labels: [Int]) -> Loss {
        { logits in
            let k = logits.shape[1]
            var total = 0.0
            for (i, label) in labels.enumerated() {
                let row = logits.storage[(i * k)..<((i + 1) * k)].map(Double.init)
                let peak = row.max()!
                total += peak + log(row.map { exp($0 - peak) }.reduce(0, +)) - row[label]
            }
            return (total / Double(labels.count), try softmaxCrossEntropy(logits: logits, labels: labels).gradient)
        }
    }
}
