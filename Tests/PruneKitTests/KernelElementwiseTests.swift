import Foundation
import Testing
@testable import PruneKit

@Suite struct KernelElementwiseTests {
    @Test func batchNormalizationPerChannel() throws {
        let x = KernelFixtures.array([2, 2, 1, 2], [1, 2, 3, 4, 5, 6, 7, 8])
        let y = try batchNormalization(
            x, scale: KernelFixtures.array([2], [2, 0.5]), bias: KernelFixtures.array([2], [1, -1]),
            mean: KernelFixtures.array([2], [1, 4]), variance: KernelFixtures.array([2], [3, 15]), epsilon: 1)
        // Channel 0: 2·(x − 1)/2 + 1 = x; channel 1: 0.5·(x − 4)/4 − 1.
        let expected: [Float] = [1, 2, -1.125, -1, 5, 6, -0.625, -0.5]
        #expect(KernelFixtures.maxDifference(y.storage, expected) < 1e-6)
        #expect(throws: KernelError.self) {
            try batchNormalization(x, scale: KernelFixtures.array([3], [1, 1, 1]), bias: KernelFixtures.array([2], [0, 0]),
                                   mean: KernelFixtures.array([2], [0, 0]), variance: KernelFixtures.array([2], [1, 1]))
        }
    }

    @Test func activationValues() {
        let cases: [(UnaryOp, Float, Float)] = [
            (.relu, -2, 0), (.relu, 3, 3),
            (.leakyRelu(alpha: 0.1), -2, -0.2), (.leakyRelu(alpha: 0.1), 2, 2),
            (.sigmoid, 0, 0.5), (.sigmoid, 2, 1 / (1 + exp(-2))),
            (.tanh, 0.5, tanh(0.5)),
            (.clip(min: -1, max: 6), 7, 6), (.clip(min: -1, max: 6), -3, -1), (.clip(min: -1, max: 6), 2, 2),
            (.hardSigmoid(alpha: 0.2, beta: 0.5), 1, 0.7), (.hardSigmoid(alpha: 0.2, beta: 0.5), 5, 1),
            (.hardSwish, 3, 3), (.hardSwish, -3, 0), (.hardSwish, 1, 1 * (1.0 / 6 + 0.5)),
            (.elu(alpha: 2), -1, 2 * (exp(-1) - 1)), (.elu(alpha: 2), 1.5, 1.5),
            (.selu(alpha: 1.6732632, gamma: 1.050701), 1, 1.050701),
            (.selu(alpha: 1.6732632, gamma: 1.050701), -1, 1.050701 * 1.6732632 * (exp(-1) - 1)),
            (.gelu(tanhApproximation: false), 1, 0.8413447), (.gelu(tanhApproximation: false), -1, -0.1586553),
            (.gelu(tanhApproximation: true), 1, 0.8411920),
            (.identity, -7, -7), (.erf, 0.5, 0.5204999), (.sqrt, 9, 3), (.reciprocal, 4, 0.25), (.neg, 2, -2),
        ]
        for (op, x, expected) in cases {
            #expect(abs(op(x) - expected) < 1e-5, "\(op)(\(x)) = \(op(x)), expected \(expected)")
        }
    }

    @Test func broadcastingFollowsNumpy() throws {
        let a = KernelFixtures.array([2, 3, 1], [1, 2, 3, 4, 5, 6])
        let b = KernelFixtures.array([1, 4], [10, 20, 30, 40])
        let sum = try broadcasting(.add, a, b)
        #expect(sum.shape == [2, 3, 4])
        #expect(sum.storage[0..<8] == [11, 21, 31, 41, 12, 22, 32, 42])
        #expect(sum.storage[20..<24] == [16, 26, 36, 46])

        let row = KernelFixtures.array([3], [1, 2, 4])
        let m = KernelFixtures.array([2, 3], [2, 4, 8, 6, 8, 12])
        #expect(try broadcasting(.div, m, row).storage == [2, 2, 2, 6, 4, 3])
        #expect(try broadcasting(.sub, row, m).storage == [-1, -2, -4, -5, -6, -8])
        #expect(try broadcasting(.mul, m, NDArray(scalar: 0.5)).storage == [1, 2, 4, 3, 4, 6])
        #expect(try broadcasting(.pow, row, NDArray(scalar: 2)).storage == [1, 4, 16])
        #expect(try broadcasting(.add, NDArray<Float>(scalar: 1), NDArray(scalar: 2)).shape == [])
        #expect(throws: KernelError.self) { try broadcasting(.add, m, KernelFixtures.array([2], [1, 2])) }
    }

    @Test func integerArithmeticTruncatesAndRefusesZeroDivision() throws {
        let a = try NDArray<Int64>(shape: [3], storage: [7, -7, 6])
        #expect(try broadcasting(.div, a, NDArray(scalar: 2)).storage == [3, -3, 3])
        #expect(try broadcasting(.mul, a, NDArray(scalar: -1)).storage == [-7, 7, -6])
        #expect(throws: KernelError.self) { try broadcasting(.div, a, NDArray(scalar: Int64(0))) }
    }

    @Test func softmaxSingleAxisAndLegacyCoercion() throws {
        let v = try softmax(KernelFixtures.array([3], [1, 2, 3]), axis: 0)
        let e: [Float] = [exp(-2), exp(-1), 1].map { $0 / (exp(-2) + exp(-1) + 1) }
        #expect(KernelFixtures.maxDifference(v.storage, e) < 1e-6)

        let x = KernelFixtures.random([2, 3, 2], seed: 31)
        let single = try softmax(x, axis: 1)
        let legacy = try softmax(x, axis: 1, coerceTo2D: true)
        // Opset 13: each (n, ·, w) column of 3 sums to 1; legacy: each n's 6 values do.
        for n in 0..<2 {
            for w in 0..<2 {
                let s = (0..<3).map { single.storage[n * 6 + $0 * 2 + w] }.reduce(0, +)
                #expect(abs(s - 1) < 1e-6)
            }
            #expect(abs(legacy.storage[(n * 6)..<(n * 6 + 6)].reduce(0, +) - 1) < 1e-6)
        }
        #expect(single != legacy)
        #expect(try softmax(x, axis: -1) == softmax(x, axis: 2))
        let logs = try softmax(x, axis: 2, log: true)
        #expect(KernelFixtures.maxDifference(logs.storage, try softmax(x, axis: 2).storage.map { log($0) }) < 1e-6)
        #expect(throws: KernelError.self) { try softmax(x, axis: 3) }
    }
}
