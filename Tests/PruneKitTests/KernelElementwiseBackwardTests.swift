import Testing
@testable import PruneKit

@Suite struct KernelElementwiseBackwardTests {
    /// Each op with the points where its derivative jumps (kept clear of by the inputs) and
    /// an input range inside its domain.
    static let unaryCases: [(UnaryOp, kinks: [Float], range: ClosedRange<Float>)] = [
        (.relu, [0], -1...1), (.leakyRelu(alpha: 0.1), [0], -1...1), (.sigmoid, [], -3...3), (.tanh, [], -2...2),
        (.clip(min: -0.5, max: 0.5), [-0.5, 0.5], -1...1), (.clip(min: 0, max: 6), [0, 6], -2...8),
        (.hardSigmoid(alpha: 0.2, beta: 0.5), [-2.5, 2.5], -4...4), (.hardSwish, [-3, 3], -5...5),
        (.elu(alpha: 0.7), [0], -2...2), (.selu(alpha: 1.67, gamma: 1.05), [0], -2...2),
        (.gelu(tanhApproximation: false), [], -3...3), (.gelu(tanhApproximation: true), [], -3...3),
        (.identity, [], -1...1), (.erf, [], -2...2), (.exp, [], -2...2), (.log, [], 0.5...2), (.sqrt, [], 0.5...2),
        (.reciprocal, [], 0.5...2), (.neg, [], -1...1), (.abs, [0], -1...1), (.floor, [-1, 0, 1], -1.5...1.5),
        (.ceil, [-1, 0, 1], -1.5...1.5),
    ]

    @Test(arguments: unaryCases.indices)
    func unaryDerivatives(index: Int) throws {
        let (op, kinks, range) = Self.unaryCases[index]
        let x = GradientCheck.random([3, 7], seed: 61, avoiding: kinks, in: range)
        let errors = try GradientCheck.check([x], step: 1e-2, forward: { $0[0].applying(op) },
                                             backward: { a, dy in [try a[0].applyingBackward(op, gradOutput: dy)] })
        #expect(errors[0]! <= 1, "\(op): error \(errors[0]!)")
    }

    static let shapePairs: [([Int], [Int])] = [([2, 3, 4], [2, 3, 4]), ([2, 3, 4], [3, 1]), ([1, 3, 1], [2, 1, 4]), ([4], [2, 3, 1]), ([], [2, 2])]

    @Test(arguments: BinaryOp.allCases, shapePairs.indices)
    func broadcastingGradients(op: BinaryOp, pair: Int) throws {
        let (sa, sb) = Self.shapePairs[pair]
        // Div and Pow keep their operands away from 0 (and Pow's base positive).
        let positive = op == .div || op == .pow
        let a = GradientCheck.random(sa, seed: 62, in: positive ? 0.5...1.5 : -1...1)
        let b = GradientCheck.random(sb, seed: 63, in: positive ? 0.5...1.5 : -1...1)
        let errors = try GradientCheck.check([a, b], forward: { try broadcasting(op, $0[0], $0[1]) }, backward: { args, dy in
            let g = try broadcastingBackward(op, args[0], args[1], gradOutput: dy)
            return [g.a, g.b]
        })
        #expect(errors.allSatisfy { $0! <= 1 }, "\(op) \(sa) \(sb): errors \(errors)")
    }

    @Test(arguments: [false, true], [false, true])
    func gemmGradients(transA: Bool, transB: Bool) throws {
        let (m, k, n) = (3, 4, 5)
        let a = KernelFixtures.random(transA ? [k, m] : [m, k], seed: 64)
        let b = KernelFixtures.random(transB ? [n, k] : [k, n], seed: 65)
        for cShape in [[n], [m, 1], [m, n]] {
            let c = KernelFixtures.random(cShape, seed: 66)
            let errors = try GradientCheck.check([a, b, c], forward: { x in
                try gemm(x[0], x[1], c: x[2], alpha: 0.7, beta: 1.3, transA: transA, transB: transB)
            }, backward: { x, dy in
                let g = try gemmBackward(x[0], x[1], c: x[2], alpha: 0.7, beta: 1.3, transA: transA, transB: transB, gradOutput: dy)
                return [g.a, g.b, g.c]
            })
            #expect(errors.allSatisfy { $0! <= 1 }, "transA \(transA) transB \(transB) C \(cShape): errors \(errors)")
        }
    }

    static let matmulShapes: [([Int], [Int])] = [([3, 4], [4, 5]), ([2, 3, 4], [4, 5]), ([4], [4, 5]), ([3, 4], [4]), ([2, 1, 3, 4], [3, 4, 2]), ([3, 4], [2, 4, 2])]

    @Test(arguments: matmulShapes.indices)
    func matmulGradients(index: Int) throws {
        let (sa, sb) = Self.matmulShapes[index]
        let inputs = [KernelFixtures.random(sa, seed: 67), KernelFixtures.random(sb, seed: 68)]
        let errors = try GradientCheck.check(inputs, forward: { try matmul($0[0], $0[1]) }, backward: { x, dy in
            let g = try matmulBackward(x[0], x[1], gradOutput: dy)
            return [g.a, g.b]
        })
        #expect(errors.allSatisfy { $0! <= 1 }, "\(sa) × \(sb): errors \(errors)")
    }

    @Test(arguments: [(1, false), (-1, false), (0, false), (1, true)], [false, true])
    func softmaxGradients(axis: (Int, Bool), log: Bool) throws {
        let x = KernelFixtures.random([2, 3, 4], seed: 69)
        let errors = try GradientCheck.check([x], forward: { try softmax($0[0], axis: axis.0, coerceTo2D: axis.1, log: log) }, backward: { a, dy in
            let y = try softmax(a[0], axis: axis.0, coerceTo2D: axis.1, log: log)
            return [try softmaxBackward(output: y, gradOutput: dy, axis: axis.0, coerceTo2D: axis.1, log: log)]
        })
        #expect(errors[0]! <= 1, "axis \(axis) log \(log): error \(errors[0]!)")
    }
}
