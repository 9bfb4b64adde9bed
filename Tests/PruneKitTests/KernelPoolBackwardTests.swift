import Testing
@testable import PruneKit

@Suite struct KernelPoolBackwardTests {
    static let configs: [Pool2DParameters] = [
        Pool2DParameters(kernel: [2, 2], strides: [2, 2]),
        Pool2DParameters(kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1]),
        Pool2DParameters(kernel: [3, 2], strides: [1, 2], pads: [0, 1, 2, 0]),
        Pool2DParameters(kernel: [2, 2], strides: [2, 2], ceilMode: true),
        Pool2DParameters(kernel: [2, 2], dilations: [2, 2]),
        Pool2DParameters(kernel: [3, 3], strides: [2, 2], autoPad: .sameUpper),
    ]

    @Test(arguments: configs)
    func maxPoolRoutesToTheMaximum(p: Pool2DParameters) throws {
        let x = GradientCheck.distinct([2, 2, 5, 5], seed: 51)
        let errors = try GradientCheck.check([x], forward: { try maxPool2d($0[0], p).values }, backward: { a, dy in
            [try maxPoolBackward(gradOutput: dy, indices: try maxPool2d(a[0], p).indices, inputShape: a[0].shape)]
        })
        #expect(errors[0]! <= 1, "error \(errors[0]!)")
    }

    @Test(arguments: configs, [false, true])
    func averagePoolGradients(p: Pool2DParameters, countIncludePad: Bool) throws {
        var p = p
        p.countIncludePad = countIncludePad
        let errors = try GradientCheck.check([KernelFixtures.random([2, 2, 5, 5], seed: 52)], forward: { try averagePool2d($0[0], p) },
                                             backward: { a, dy in [try averagePool2dBackward(gradOutput: dy, input: a[0], p)] })
        #expect(errors[0]! <= 1, "error \(errors[0]!)")
    }

    @Test(arguments: [false, true])
    func globalPoolGradients(useMax: Bool) throws {
        let x = GradientCheck.distinct([2, 3, 3, 2], seed: 53)
        let errors = try GradientCheck.check([x], forward: { try globalPool($0[0], max: useMax) }, backward: { a, dy in
            [try globalPoolBackward(gradOutput: dy, input: a[0], max: useMax)]
        })
        #expect(errors[0]! <= 1, "error \(errors[0]!)")
    }

    @Test func maxPoolGradientByHand() throws {
        // KernelPoolTests.grid's 2×2 maxima sit at offsets 1, 6, 12, 11.
        let (_, indices) = try maxPool2d(KernelPoolTests.grid, Pool2DParameters(kernel: [2, 2], strides: [2, 2]))
        let dx = try maxPoolBackward(gradOutput: KernelFixtures.array([1, 1, 2, 2], [1, 2, 3, 4]), indices: indices, inputShape: [1, 1, 4, 4])
        #expect(dx.storage == [0, 1, 0, 0, 0, 0, 2, 0, 0, 0, 0, 4, 3, 0, 0, 0])
    }
}
