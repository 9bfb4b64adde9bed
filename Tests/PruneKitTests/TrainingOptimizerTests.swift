import Foundation
import Testing
@testable import PruneKit

@Suite struct TrainingOptimizerTests {
    /// Two steps worked by hand (torch.optim.SGD gives the same: 0.949, −2.048; 0.852151, −2.139152).
    @Test func sgdStepsByHand() {
        var sgd = SGD(momentum: 0.9, weightDecay: 0.01)
        var params = ["w": KernelFixtures.array([2], [1, -2])]
        let grads = ["w": KernelFixtures.array([2], [0.5, 0.5])]
        // d = g + λp = [0.51, 0.48]; v = d; p −= 0.1·v
        sgd.step(&params, gradients: grads, learningRate: 0.1)
        #expect(KernelFixtures.maxDifference(params["w"]!.storage, [0.949, -2.048]) < 1e-6)
        // d = [0.50949, 0.47952]; v = 0.9·[0.51, 0.48] + d = [0.96849, 0.91152]
        sgd.step(&params, gradients: grads, learningRate: 0.1)
        #expect(KernelFixtures.maxDifference(params["w"]!.storage, [0.852151, -2.139152]) < 1e-6)
        #expect(KernelFixtures.maxDifference(sgd.velocity["w"]!, [0.96849, 0.91152]) < 1e-6)
    }

    @Test func sgdWithoutMomentumIsPlainDescentAndSkipsParametersWithoutGradients() {
        var sgd = SGD(momentum: 0, weightDecay: 0)
        var params = ["a": KernelFixtures.array([1], [3]), "b": KernelFixtures.array([1], [5])]
        for _ in 0..<3 { sgd.step(&params, gradients: ["a": KernelFixtures.array([1], [2])], learningRate: 0.5) }
        #expect(params["a"]!.storage == [0])
        #expect(params["b"]!.storage == [5])
    }

    @Test func cosineScheduleValues() {
        let s = CosineSchedule(initial: 0.1, totalSteps: 10)
        #expect(s.rate(atStep: 0) == 0.1)
        #expect(abs(s.rate(atStep: 5) - 0.05) < 1e-7)
        #expect(abs(s.rate(atStep: 2) - 0.05 * Float(1 + cos(0.2 * Double.pi))) < 1e-7)  // 0.0904508
        #expect(abs(s.rate(atStep: 8) - 0.05 * Float(1 + cos(0.8 * Double.pi))) < 1e-7)  // 0.0095492
        #expect(s.rate(atStep: 10) == 0)
        #expect(s.rate(atStep: 99) == 0)
        let floor = CosineSchedule(initial: 0.1, minimum: 0.01, totalSteps: 4)
        #expect(abs(floor.rate(atStep: 2) - 0.055) < 1e-7)
        // Symmetric about the midpoint: rate(t) + rate(T − t) = initial + minimum.
        for t in 0...4 { #expect(abs(floor.rate(atStep: t) + floor.rate(atStep: 4 - t) - 0.11) < 1e-7) }
    }
}
