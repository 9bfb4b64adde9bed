import Testing
@testable import PruneKit

@Suite struct KernelConvBackwardTests {
    /// Every forward configuration (groups, depthwise, stride, asymmetric pads, dilation, 1×1):
    /// input, weight and bias gradients against finite differences.
    @Test(arguments: KernelConvTests.configs)
    func gradientsMatchFiniteDifferences(config: KernelConvTests.Config) throws {
        let p = Conv2DParameters(strides: config.strides, pads: config.pads, dilations: config.dilations, group: config.group)
        try check(input: config.input, weight: config.weight, bias: config.bias, p)
    }

    @Test(arguments: [AutoPad.sameUpper, .sameLower, .valid])
    func autoPadGradients(autoPad: AutoPad) throws {
        try check(input: [1, 2, 6, 5], weight: [3, 2, 3, 2], bias: true, Conv2DParameters(strides: [2, 2], autoPad: autoPad))
    }

    /// Unit-stride depthwise takes its own path (padded planes, one loop per tap).
    @Test(arguments: [
        Conv2DParameters(pads: [1, 0, 2, 1], group: 3),
        Conv2DParameters(dilations: [2, 1], group: 3, autoPad: .sameLower),
        Conv2DParameters(group: 3, autoPad: .valid),
    ])
    func unitStrideDepthwiseGradients(p: Conv2DParameters) throws {
        try check(input: [2, 3, 5, 6], weight: [6, 1, 3, 2], bias: true, p)
    }

    private func check(input: [Int], weight: [Int], bias: Bool, _ p: Conv2DParameters) throws {
        let inputs = [KernelFixtures.random(input, seed: 31), KernelFixtures.random(weight, seed: 32)]
            + (bias ? [KernelFixtures.random([weight[0]], seed: 33)] : [])
        let errors = try GradientCheck.check(inputs, forward: { args in
            try conv2d(args[0], weight: args[1], bias: args.count > 2 ? args[2] : nil, p)
        }, backward: { args, dy in
            let g = try conv2dBackward(args[0], weight: args[1], gradOutput: dy, p)
            return [g.input, g.weight, g.bias]
        })
        #expect(errors.allSatisfy { $0! <= 1 }, "errors \(errors)")
    }

    @Test func onlyRequestedGradientsAreComputed() throws {
        let x = KernelFixtures.random([1, 2, 4, 4], seed: 1)
        let w = KernelFixtures.random([3, 2, 3, 3], seed: 2)
        let dy = KernelFixtures.random([1, 3, 2, 2], seed: 3)
        let both = try conv2dBackward(x, weight: w, gradOutput: dy)
        let weightOnly = try conv2dBackward(x, weight: w, gradOutput: dy, inputGradient: false)
        #expect(weightOnly.input == nil)
        #expect(weightOnly.weight == both.weight)
        #expect(try conv2dBackward(x, weight: w, gradOutput: dy, weightGradient: false).input == both.input)
    }

    @Test func wrongGradientShapeThrows() {
        let x = KernelFixtures.random([1, 2, 4, 4], seed: 1)
        let w = KernelFixtures.random([3, 2, 3, 3], seed: 2)
        #expect(throws: KernelError.self) { try conv2dBackward(x, weight: w, gradOutput: KernelFixtures.random([1, 3, 4, 4], seed: 3)) }
    }
}

@Suite struct KernelBatchNormBackwardTests {
    static let x = KernelFixtures.random([3, 4, 2, 3], seed: 41)
    static let scale = GradientCheck.random([4], seed: 42, in: 0.5...1.5)
    static let bias = KernelFixtures.random([4], seed: 43)

    @Test func trainingModeNormalizesWithBatchStatistics() throws {
        let (y, mean, variance) = try batchNormalizationTraining(Self.x, scale: Self.scale, bias: Self.bias, epsilon: 1e-5)
        // Channel 1's values, by hand from the definition.
        let values = (0..<3).flatMap { n in (0..<6).map { Double(Self.x.storage[(n * 4 + 1) * 6 + $0]) } }
        let mu = values.reduce(0, +) / 18
        let v = values.map { ($0 - mu) * ($0 - mu) }.reduce(0, +) / 18
        #expect(abs(Double(mean.storage[1]) - mu) < 1e-6)
        #expect(abs(Double(variance.storage[1]) - v) < 1e-6)
        let first = (Double(Self.x.storage[6]) - mu) / (v + 1e-5).squareRoot() * Double(Self.scale.storage[1]) + Double(Self.bias.storage[1])
        #expect(abs(Double(y.storage[6]) - first) < 1e-5)
    }

    @Test(arguments: [true, false])
    func gradientsMatchFiniteDifferences(training: Bool) throws {
        let running = (KernelFixtures.random([4], seed: 44), GradientCheck.random([4], seed: 45, in: 0.5...1.5))
        let errors = try GradientCheck.check([Self.x, Self.scale, Self.bias], forward: { a in
            training ? try batchNormalizationTraining(a[0], scale: a[1], bias: a[2]).output
                : try batchNormalization(a[0], scale: a[1], bias: a[2], mean: running.0, variance: running.1)
        }, backward: { a, dy in
            var (mean, variance) = running
            if training { (_, mean, variance) = try batchNormalizationTraining(a[0], scale: a[1], bias: a[2]) }
            let g = try batchNormalizationBackward(a[0], scale: a[1], mean: mean, variance: variance,
                                                   gradOutput: dy, batchStatistics: training)
            return [g.input, g.scale, g.bias]
        })
        #expect(errors.allSatisfy { $0! <= 1 }, "errors \(errors)")
    }
}

@Suite struct KernelConvBackwardBatchTests {
    /// Large enough to share images among cores: the result must equal the image-by-image
    /// sum (each single image small enough to run alone).
    @Test(arguments: [([4, 16, 16, 16], [16, 16, 3, 3], 1), ([16, 64, 16, 16], [64, 1, 3, 3], 64), ([4, 64, 16, 16], [128, 64, 1, 1], 1)])
    func batchEqualsSumOfImages(input: [Int], weight: [Int], group: Int) throws {
        let p = Conv2DParameters(pads: weight[2] == 3 ? [1, 1, 1, 1] : [0, 0, 0, 0], group: group)
        let x = KernelFixtures.random(input, seed: 91)
        let w = KernelFixtures.random(weight, seed: 92)
        let dy = KernelFixtures.random(try conv2d(x, weight: w, bias: nil, p).shape, seed: 93)
        let whole = try conv2dBackward(x, weight: w, gradOutput: dy, p)
        var dw = [Float](repeating: 0, count: w.count)
        var dx: [Float] = []
        for n in 0..<input[0] {
            let xn = try x.sliced(starts: [n], ends: [n + 1], axes: [0])
            let dyn = try dy.sliced(starts: [n], ends: [n + 1], axes: [0])
            let part = try conv2dBackward(xn, weight: w, gradOutput: dyn, p)
            dx += part.input!.storage
            for i in dw.indices { dw[i] += part.weight!.storage[i] }
        }
        #expect(KernelFixtures.maxDifference(whole.input!.storage, dx) < 1e-5)
        #expect(KernelFixtures.maxDifference(whole.weight!.storage, dw) < 1e-3)
    }
}
