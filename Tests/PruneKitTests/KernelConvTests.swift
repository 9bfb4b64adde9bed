import Testing
@testable import PruneKit

@Suite struct KernelConvTests {
    /// Direct convolution from the definition, with explicit pads [top, left, bottom, right].
    static func direct(_ x: NDArray<Float>, _ w: NDArray<Float>, _ b: NDArray<Float>?,
                       strides: [Int], pads: [Int], dilations: [Int], group: Int) -> NDArray<Float> {
        let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (m, cg, kh, kw) = (w.shape[0], w.shape[1], w.shape[2], w.shape[3])
        let oh = (h + pads[0] + pads[2] - ((kh - 1) * dilations[0] + 1)) / strides[0] + 1
        let ow = (wd + pads[1] + pads[3] - ((kw - 1) * dilations[1] + 1)) / strides[1] + 1
        let mg = m / group
        var y = [Float](repeating: 0, count: n * m * oh * ow)
        for b0 in 0..<n {
            for f in 0..<m {
                let g = f / mg
                for i in 0..<oh {
                    for j in 0..<ow {
                        var sum = Double(b?.storage[f] ?? 0)
                        for ch in 0..<cg {
                            for p in 0..<kh {
                                for q in 0..<kw {
                                    let ih = i * strides[0] - pads[0] + p * dilations[0]
                                    let iw = j * strides[1] - pads[1] + q * dilations[1]
                                    guard ih >= 0, ih < h, iw >= 0, iw < wd else { continue }
                                    let xv = x.storage[((b0 * c + g * cg + ch) * h + ih) * wd + iw]
                                    let wv = w.storage[((f * cg + ch) * kh + p) * kw + q]
                                    sum += Double(xv) * Double(wv)
                                }
                            }
                        }
                        y[((b0 * m + f) * oh + i) * ow + j] = Float(sum)
                    }
                }
            }
        }
        return try! NDArray(shape: [n, m, oh, ow], storage: y)
    }

    struct Config: Sendable, CustomTestStringConvertible {
        let name: String
        var input: [Int]
        var weight: [Int]
        var strides = [1, 1]
        var pads = [0, 0, 0, 0]
        var dilations = [1, 1]
        var group = 1
        var bias = true
        var testDescription: String { name }
    }

    static let configs: [Config] = [
        Config(name: "3x3 pad 1", input: [2, 3, 6, 5], weight: [4, 3, 3, 3], pads: [1, 1, 1, 1]),
        Config(name: "stride 2", input: [1, 2, 7, 8], weight: [3, 2, 3, 3], strides: [2, 2], pads: [1, 1, 1, 1]),
        Config(name: "asymmetric pads, no bias", input: [1, 2, 5, 6], weight: [2, 2, 3, 2], pads: [0, 1, 2, 0], bias: false),
        Config(name: "dilation 2", input: [1, 3, 9, 9], weight: [2, 3, 3, 3], pads: [2, 2, 2, 2], dilations: [2, 2]),
        Config(name: "group 2", input: [2, 4, 5, 5], weight: [6, 2, 3, 3], pads: [1, 1, 1, 1], group: 2),
        Config(name: "depthwise ×2", input: [1, 3, 6, 6], weight: [6, 1, 3, 3], strides: [2, 2], pads: [1, 1, 1, 1], group: 3),
        Config(name: "1x1", input: [2, 5, 3, 4], weight: [3, 5, 1, 1]),
        Config(name: "1x1 stride 2", input: [1, 4, 5, 5], weight: [2, 4, 1, 1], strides: [2, 2]),
        Config(name: "stride 3 dilation (1,2)", input: [1, 2, 10, 11], weight: [3, 2, 2, 3], strides: [3, 1], dilations: [1, 2]),
    ]

    @Test(arguments: configs)
    func matchesDirectConvolution(config: Config) throws {
        let x = KernelFixtures.random(config.input, seed: 11)
        let w = KernelFixtures.random(config.weight, seed: 12)
        let b = config.bias ? KernelFixtures.random([config.weight[0]], seed: 13) : nil
        let p = Conv2DParameters(strides: config.strides, pads: config.pads, dilations: config.dilations, group: config.group)
        let y = try conv2d(x, weight: w, bias: b, p)
        let expected = Self.direct(x, w, b, strides: config.strides, pads: config.pads,
                                   dilations: config.dilations, group: config.group)
        #expect(y.shape == expected.shape)
        #expect(KernelFixtures.maxDifference(y.storage, expected.storage) < 1e-5)
    }

    @Test func handComputedSums() throws {
        let x = KernelFixtures.array([1, 1, 3, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9])
        let w = KernelFixtures.array([1, 1, 2, 2], [1, 1, 1, 1])
        let y = try conv2d(x, weight: w, bias: KernelFixtures.array([1], [0.5]))
        #expect(y.shape == [1, 1, 2, 2])
        #expect(y.storage == [12.5, 16.5, 24.5, 28.5])
    }

    /// 6 wide, kernel 3, stride 2: output 3, one pad pixel, at the end (UPPER) or start (LOWER).
    @Test(arguments: [(AutoPad.sameUpper, [0, 0, 1, 1]), (.sameLower, [1, 1, 0, 0]), (.valid, [0, 0, 0, 0])])
    func autoPadMatchesExplicitPads(autoPad: AutoPad, pads: [Int]) throws {
        let x = KernelFixtures.random([1, 2, 6, 6], seed: 21)
        let w = KernelFixtures.random([3, 2, 3, 3], seed: 22)
        let y = try conv2d(x, weight: w, bias: nil, Conv2DParameters(strides: [2, 2], autoPad: autoPad))
        let expected = Self.direct(x, w, nil, strides: [2, 2], pads: pads, dilations: [1, 1], group: 1)
        #expect(y.shape == (autoPad == .valid ? [1, 3, 2, 2] : [1, 3, 3, 3]))
        #expect(KernelFixtures.maxDifference(y.storage, expected.storage) < 1e-5)
    }

    @Test func sameUpperKeepsSizeAtStrideOne() throws {
        let x = KernelFixtures.random([1, 1, 5, 4], seed: 23)
        let w = KernelFixtures.random([1, 1, 4, 3], seed: 24)  // even kernel height: pads 1 before, 2 after
        let y = try conv2d(x, weight: w, bias: nil, Conv2DParameters(autoPad: .sameUpper))
        let expected = Self.direct(x, w, nil, strides: [1, 1], pads: [1, 1, 2, 1], dilations: [1, 1], group: 1)
        #expect(y.shape == [1, 1, 5, 4])
        #expect(KernelFixtures.maxDifference(y.storage, expected.storage) < 1e-5)
    }

    @Test func badShapesThrowInsteadOfTrapping() {
        let x = KernelFixtures.random([1, 4, 5, 5], seed: 1)
        #expect(throws: KernelError.self) { try conv2d(x, weight: KernelFixtures.random([2, 3, 3, 3], seed: 2)) }
        #expect(throws: KernelError.self) {
            try conv2d(x, weight: KernelFixtures.random([3, 2, 3, 3], seed: 2), bias: nil, Conv2DParameters(group: 2))
        }
        #expect(throws: KernelError.self) {
            try conv2d(x, weight: KernelFixtures.random([2, 4, 3, 3], seed: 2), bias: KernelFixtures.random([3], seed: 3))
        }
        #expect(throws: KernelError.self) { try conv2d(x, weight: KernelFixtures.random([2, 4, 7, 7], seed: 2)) }
        #expect(throws: KernelError.self) {
            try conv2d(x, weight: KernelFixtures.random([2, 4, 3, 3], seed: 2), bias: nil, Conv2DParameters(strides: [0, 1]))
        }
        #expect(throws: KernelError.self) { try conv2d(KernelFixtures.random([4, 5, 5], seed: 1), weight: KernelFixtures.random([2, 4, 3, 3], seed: 2)) }
    }
}
