import Foundation
import Testing
@testable import PruneKit

@Suite struct KernelMovementBackwardTests {
    static let x = KernelFixtures.random([2, 3, 4], seed: 71)

    /// Each op as (forward on floats, the same op on the index map).
    static func check(_ floats: (NDArray<Float>) throws -> NDArray<Float>,
                      _ indices: @escaping (NDArray<Int64>) throws -> NDArray<Int64>) throws -> Double {
        let errors = try GradientCheck.check([x], forward: { try floats($0[0]) }, backward: { a, dy in
            [try movementBackward(inputShape: a[0].shape, gradOutput: dy, indices)]
        })
        return errors[0]!
    }

    @Test func gatherWithRepeatedIndices() throws {
        let picks = try NDArray<Int64>(shape: [2, 2], storage: [2, 0, -1, 2])
        #expect(try Self.check({ try $0.gathered(indices: picks, axis: 2) }, { try $0.gathered(indices: picks, axis: 2) }) <= 1)
    }

    @Test func sliceWithNegativeStep() throws {
        #expect(try Self.check({ try $0.sliced(starts: [3, 0], ends: [-5, 2], axes: [2, 1], steps: [-2, 1]) },
                               { try $0.sliced(starts: [3, 0], ends: [-5, 2], axes: [2, 1], steps: [-2, 1]) }) <= 1)
    }

    @Test func transpose() throws {
        #expect(try Self.check({ try $0.transposed([2, 0, 1]) }, { try $0.transposed([2, 0, 1]) }) <= 1)
    }

    @Test func expandSumsTheCopies() throws {
        #expect(try Self.check({ try $0.reshaped(to: [2, 3, 1, 4]).broadcast(to: [2, 3, 5, 4]) },
                               { try $0.reshaped(to: [2, 3, 1, 4]).broadcast(to: [2, 3, 5, 4]) }) <= 1)
    }

    @Test func concatSplitsTheGradient() throws {
        let parts = [KernelFixtures.random([2, 1, 3], seed: 72), KernelFixtures.random([2, 4, 3], seed: 73), KernelFixtures.random([2, 2, 3], seed: 74)]
        let errors = try GradientCheck.check(parts, forward: { try .concatenated($0, axis: -2) }, backward: { a, dy in
            try concatBackward(partShapes: a.map(\.shape), axis: -2, gradOutput: dy)
        })
        #expect(errors.allSatisfy { $0! <= 1 }, "errors \(errors)")
    }
}

@Suite struct LossTests {
    @Test func crossEntropyByHand() throws {
        // Uniform logits: −log(1/K) per sample whatever the label.
        let (loss, gradient) = try softmaxCrossEntropy(logits: try NDArray(repeating: 0.3, shape: [2, 4]), labels: [1, 3])
        #expect(abs(loss - Float(Foundation.log(4.0))) < 1e-6)
        #expect(KernelFixtures.maxDifference(gradient.storage, [0.125, -0.375, 0.125, 0.125, 0.125, 0.125, 0.125, -0.375]) < 1e-6)
    }

    @Test func crossEntropyGradientMatchesFiniteDifferences() throws {
        let logits = KernelFixtures.random([3, 5], seed: 81)
        let labels = [4, 0, 2]
        let analytic = try softmaxCrossEntropy(logits: logits, labels: labels).gradient
        let numeric = try GradientCheck.numerical(logits) { Double(try softmaxCrossEntropy(logits: $0, labels: labels).loss) }
        #expect(GradientCheck.error(analytic, numeric) <= 1)
    }

    @Test(arguments: [Float(1), 4])
    func distillationGradientMatchesFiniteDifferences(temperature: Float) throws {
        let student = KernelFixtures.random([3, 5], seed: 82)
        let teacher = KernelFixtures.random([3, 5], seed: 83)
        let analytic = try distillationLoss(student: student, teacher: teacher, temperature: temperature).gradient
        let numeric = try GradientCheck.numerical(student) {
            Double(try distillationLoss(student: $0, teacher: teacher, temperature: temperature).loss)
        }
        #expect(GradientCheck.error(analytic, numeric) <= 1)
    }

    @Test func distillationIsZeroAgainstItselfAndPositiveOtherwise() throws {
        let a = KernelFixtures.random([2, 6], seed: 84)
        let same = try distillationLoss(student: a, teacher: a, temperature: 2)
        #expect(abs(same.loss) < 1e-6)
        #expect(same.gradient.storage.allSatisfy { abs($0) < 1e-6 })
        #expect(try distillationLoss(student: a, teacher: KernelFixtures.random([2, 6], seed: 85), temperature: 2).loss > 0)
    }

    @Test func badLabelsAndShapesThrow() {
        let logits = KernelFixtures.random([2, 3], seed: 86)
        #expect(throws: KernelError.self) { try softmaxCrossEntropy(logits: logits, labels: [0]) }
        #expect(throws: KernelError.self) { try softmaxCrossEntropy(logits: logits, labels: [0, 3]) }
        #expect(throws: KernelError.self) { try softmaxCrossEntropy(logits: KernelFixtures.random([2, 3, 1], seed: 1), labels: [0, 1]) }
        #expect(throws: KernelError.self) { try distillationLoss(student: logits, teacher: logits, temperature: 0) }
        #expect(throws: KernelError.self) { try distillationLoss(student: logits, teacher: KernelFixtures.random([3, 2], seed: 1), temperature: 1) }
    }
}
