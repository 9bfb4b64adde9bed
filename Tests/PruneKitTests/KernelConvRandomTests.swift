import Testing
@testable import PruneKit

/// conv2d against the direct definition (KernelConvTests.direct) on seeded random
/// configurations, and on shapes chosen to reach each way conv2d computes: images lowered in
/// blocks, (block, group) items in parallel, a pointwise conv reading the image in place, the
/// depthwise kernel's vector and scalar loops.
@Suite struct KernelConvRandomTests {
    struct Config: CustomTestStringConvertible {
        var input: [Int]
        var weight: [Int]
        var strides: [Int]
        var pads: [Int]
        var dilations: [Int]
        var group: Int
        var bias: Bool
        var testDescription: String {
            "x \(input) w \(weight) s \(strides) p \(pads) d \(dilations) g \(group)\(bias ? "" : " no bias")"
        }
    }

    static func check(_ c: Config, seed: UInt64) throws -> Float {
        let x = KernelFixtures.random(c.input, seed: seed)
        let w = KernelFixtures.random(c.weight, seed: seed + 1)
        let b = c.bias ? KernelFixtures.random([c.weight[0]], seed: seed + 2) : nil
        let y = try conv2d(x, weight: w, bias: b,
                           Conv2DParameters(strides: c.strides, pads: c.pads, dilations: c.dilations, group: c.group))
        let expected = KernelConvTests.direct(x, w, b, strides: c.strides, pads: c.pads, dilations: c.dilations, group: c.group)
        guard y.shape == expected.shape else { return .infinity }
        return KernelFixtures.maxDifference(y.storage, expected.storage)
    }

    /// A random conv whose window fits its padded input: grouped (1–3 groups) or depthwise
    /// (multiplier 1–2), kernels 1–4, strides 1–3, dilations 1–2, pads 0–2 on each side.
    static func randomConfig(_ g: inout Xoshiro256StarStar) -> Config {
        func draw(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(g.next() % UInt64(range.count)) }
        let depthwise = draw(0...3) == 0
        let group = depthwise ? draw(2...5) : draw(1...3)
        let groupChannels = depthwise ? 1 : draw(1...4)
        let groupFilters = draw(1...(depthwise ? 2 : 4))
        let kernel = [draw(1...4), draw(1...4)]
        let dilations = [draw(1...2), draw(1...2)]
        let pads = (0..<4).map { _ in draw(0...2) }
        let size = (0..<2).map { axis in
            let extent = (kernel[axis] - 1) * dilations[axis] + 1
            return max(1, extent - pads[axis] - pads[axis + 2]) + draw(0...9)
        }
        return Config(input: [draw(1...3), group * groupChannels, size[0], size[1]],
                      weight: [group * groupFilters, groupChannels, kernel[0], kernel[1]],
                      strides: [draw(1...3), draw(1...3)], pads: pads, dilations: dilations,
                      group: group, bias: draw(0...3) != 0)
    }

    @Test func randomConfigurationsMatchTheDefinition() throws {
        var g = Xoshiro256StarStar(seed: 2024)
        for round in 0..<80 {
            let config = Self.randomConfig(&g)
            let error = try Self.check(config, seed: UInt64(round) * 10)
            #expect(error < 1e-4, "\(config.testDescription): max error \(error)")
        }
    }

    static let pathConfigs: [Config] = [
        // Pointwise, one image per product (16×16 = 256 pixels): the image is the column matrix.
        Config(input: [2, 8, 16, 16], weight: [5, 8, 1, 1], strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1], group: 1, bias: true),
        // Same, enough images for one product per core each.
        Config(input: [5, 8, 16, 16], weight: [5, 8, 1, 1], strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1], group: 1, bias: false),
        // 7×7 outputs: 37 images per block, the product scattered back per image.
        Config(input: [40, 3, 7, 7], weight: [4, 3, 3, 3], strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1], group: 1, bias: true),
        // Padded, 21 wide: the zero-bordered copy, rows and taps of 21 floats (a vector and an
        // overlapping one); 2 images of 9×21 in one block.
        Config(input: [2, 3, 9, 21], weight: [5, 3, 3, 3], strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1], group: 1, bias: true),
        // Grouped with blocks × groups ≥ 2 per core: items in parallel.
        Config(input: [3, 8, 9, 9], weight: [12, 2, 3, 3], strides: [2, 2], pads: [1, 0, 1, 2], dilations: [1, 1], group: 4, bias: true),
        // Depthwise, 20 wide at stride 1: one 16-wide vector and 4 scalar outputs per row.
        Config(input: [2, 3, 5, 20], weight: [6, 1, 3, 3], strides: [1, 1], pads: [2, 1, 0, 3], dilations: [2, 1], group: 3, bias: true),
        // Depthwise ×2, 10 rows × 21 columns: two 4-row passes and two single rows, each with one
        // vector and one overlapping it (columns 5–20); dilated vertically.
        Config(input: [1, 2, 11, 21], weight: [4, 1, 3, 3], strides: [1, 1], pads: [1, 1, 2, 1], dilations: [2, 1], group: 2, bias: true),
        // Depthwise at stride 2: scalar loop only.
        Config(input: [1, 4, 33, 35], weight: [4, 1, 3, 3], strides: [2, 2], pads: [1, 1, 1, 1], dilations: [1, 1], group: 4, bias: false),
    ]

    @Test(arguments: pathConfigs)
    func eachPathMatchesTheDefinition(config: Config) throws {
        #expect(try Self.check(config, seed: 5) < 1e-4)
    }
}

/// im2col (kept for the backward pass) against its definition: row (c, ki, kj), column
/// (oh, ow) holds x[c, oh·s − pad + ki·d, ow·s − pad + kj·d], zero in the padding.
@Suite struct Im2ColTests {
    @Test(arguments: [(1, 1, 0, 0), (2, 1, 1, 2), (1, 2, 2, 1), (3, 2, 0, 3)])
    func matchesTheDefinition(strideH: Int, dilationW: Int, padTop: Int, padLeft: Int) throws {
        let (channels, height, width, kh, kw) = (2, 6, 7, 3, 2)
        let h = try WindowAxis(input: height, kernel: kh, stride: strideH, dilation: 1, padBegin: padTop, padEnd: 1, autoPad: .notSet)
        let w = try WindowAxis(input: width, kernel: kw, stride: 1, dilation: dilationW, padBegin: padLeft, padEnd: 0, autoPad: .notSet)
        let x = KernelFixtures.values(channels * height * width, seed: 3)
        let pixels = h.output * w.output
        var columns = [Float](repeating: .nan, count: channels * kh * kw * pixels)
        x.withUnsafeBufferPointer { xs in
            columns.withUnsafeMutableBufferPointer { cs in
                im2col(image: xs.baseAddress!, channels: channels, h: h, w: w, columns: cs.baseAddress!)
            }
        }
        var expected: [Float] = []
        for c in 0..<channels {
            for ki in 0..<kh {
                for kj in 0..<kw {
                    for oh in 0..<h.output {
                        for ow in 0..<w.output {
                            let ih = oh * strideH - padTop + ki
                            let iw = ow - padLeft + kj * dilationW
                            let inside = ih >= 0 && ih < height && iw >= 0 && iw < width
                            expected.append(inside ? x[(c * height + ih) * width + iw] : 0)
                        }
                    }
                }
            }
        }
        #expect(columns == expected)
    }
}
