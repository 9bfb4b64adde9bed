import Testing
@testable import PruneKit

/// The criteria against values worked out by hand on filters small enough to check on paper.
@Suite struct CriteriaTests {
    /// input(2 channels) → conv "c" (three 1×1 filters, given) → BN "bn" (γ given) → relu → conv "d".
    func tinyNet(filters: [Float] = [1, -2, 3, 0, 0.5, 0.5], gamma: [Float]? = [2, -0.5, 0]) -> Graph {
        var b = GraphBuilder(name: "tiny", seed: 1)
        let x = b.input("x", shape: [1, 2, 4, 4])
        var h = b.conv(x, out: 3, kernel: 1, pad: 0, bias: false, name: "c")
        if gamma != nil { h = b.batchNorm(h, name: "bn") }
        h = b.conv(b.relu(h), out: 2, kernel: 1, pad: 0, bias: false, name: "d")
        b.output(h)
        var g = b.graph
        g.initializers["c.weight"] = Tensor(shape: [3, 2, 1, 1], floats: filters)
        if let gamma { g.initializers["bn.weight"] = Tensor(shape: [3], floats: gamma) }
        return g
    }

    func group(_ groups: ChannelGroups, _ name: String) throws -> Int {
        try #require(groups.groups.first { $0.name == name }).id
    }

    func close(_ a: [Double], _ b: [Double], _ tolerance: Double = 1e-6) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= tolerance }
    }

    @Test func magnitudeIsL1TimesTheFollowingBatchNormScale() throws {
        for (gamma, expected) in [([Float(2), -0.5, 0], [6.0, 1.5, 0]), (nil, [3.0, 3, 1])] {
            let g = tinyNet(gamma: gamma)
            let groups = ChannelGroups.analyze(g)
            let scores = MagnitudeCriterion.bnAware(ofGroup: try group(groups, "c"), groups: groups, lookup: ChannelGroupLookup(groups),
                                                    graph: g, bnScales: MagnitudeCriterion.batchNormScales(g))
            #expect(scores == expected)
        }
    }

    @Test func irreplaceabilityIsTheSummedDistanceToTheOthers() throws {
        let g = tinyNet()
        let groups = ChannelGroups.analyze(g)
        let w = FilterMatrix.producers(ofGroup: try group(groups, "c"), groups: groups, lookup: ChannelGroupLookup(groups), graph: g)
        #expect(w == FilterMatrix(rows: 3, width: 2, values: [1, -2, 3, 0, 0.5, 0.5]))
        // ‖w0 − w1‖ = √8, ‖w0 − w2‖ = ‖w1 − w2‖ = √6.5.
        let b = IrreplaceabilityCriterion.fpgm(FilterGeometry(w))
        #expect(close(b, [Double(8.0).squareRoot() + Double(6.5).squareRoot(), Double(8.0).squareRoot() + Double(6.5).squareRoot(), 2 * Double(6.5).squareRoot()]))
    }

    @Test func innerShareabilityIsTheLargestCosineToAnotherChannel() {
        // cos(w0, w1) = 1/√5, cos(w0, w2) = −1/√10, cos(w1, w2) = 1/√2.
        let w = FilterMatrix(rows: 3, width: 2, values: [1, -2, 3, 0, 0.5, 0.5])
        let c = ShareabilityCriterion.inner(FilterGeometry(w))
        #expect(close(c, [1 / Double(5.0).squareRoot(), 1 / Double(2.0).squareRoot(), 1 / Double(2.0).squareRoot()]))
        #expect(ShareabilityCriterion.inner(FilterGeometry(FilterMatrix(rows: 1, width: 2, values: [1, 1]))) == [0])
    }

    @Test func shareabilityAcrossTasksIsTheMeanCosineOverTaskPairs() {
        // Channel 0: (1,0), (1,1), (0,1) → pairs 1/√2, 0, 1/√2. Channel 1: identical in all three → 1.
        // Channel 2: (1,0), (−1,0), (1,0) → −1, 1, −1.
        let a = FilterMatrix(rows: 3, width: 2, values: [1, 0, 2, 2, 1, 0])
        let b = FilterMatrix(rows: 3, width: 2, values: [1, 1, 2, 2, -1, 0])
        let c = FilterMatrix(rows: 3, width: 2, values: [0, 1, 2, 2, 1, 0])
        let s = ShareabilityCriterion.acrossTasks([a, b, c])
        #expect(close(s, [2 / Double(2.0).squareRoot() / 3, 1, -1.0 / 3]))
        #expect(close(ShareabilityCriterion.acrossTasks([a, b]), [1 / Double(2.0).squareRoot(), 1, -1]))
        #expect(ShareabilityCriterion.taskGram([a, b], channel: 0) == [1, 1, 1, 2])
    }

    @Test func normalizationMakesEachGroupSumToOne() {
        let s = ChannelScores(magnitude: [6, 1.5, 0], irreplaceability: [0, 0, 0], shareability: [-0.5, 0.5, 1]).normalized()
        #expect(s.magnitude == [0.8, 0.2, 0])
        #expect(close(s.irreplaceability, [1.0 / 3, 1.0 / 3, 1.0 / 3]))
        #expect(close(s.shareability, [0, 1.0 / 3, 2.0 / 3]))
    }

    @Test func computeUsesAcrossTaskShareabilityOnlyWithSeveralTasks() {
        let w = FilterMatrix(rows: 3, width: 2, values: [1, -2, 3, 0, 0.5, 0.5])
        let one = ChannelScores.compute(filters: [w], geometry: [FilterGeometry(w)], magnitudes: [[3, 3, 1]])
        #expect(close(one[0].shareability, [1 / Double(5.0).squareRoot(), 1 / Double(2.0).squareRoot(), 1 / Double(2.0).squareRoot()]))
        let two = ChannelScores.compute(filters: [w, w], geometry: [FilterGeometry(w), FilterGeometry(w)], magnitudes: [[3, 3, 1], [1, 1, 1]])
        #expect(close(two[1].shareability, [1, 1, 1]) && two[1].magnitude == [1, 1, 1])
    }

    @Test func residualAndDepthwiseRowsSpanEveryProducerOfTheGroup() throws {
        let r = ExampleArchitecture.resnet.build(seed: 4)
        let groups = ChannelGroups.analyze(r)
        let lookup = ChannelGroupLookup(groups)
        let stage1 = FilterMatrix.producers(ofGroup: try group(groups, "conv1+layer1.0.conv2"), groups: groups, lookup: lookup, graph: r)
        #expect(stage1.rows == 16 && stage1.width == 27 + 144)
        let conv1 = r.initializers["conv1.weight"]!.floats(), conv2 = r.initializers["layer1.0.conv2.weight"]!.floats()
        for i in [0, 7, 15] {
            #expect(Array(stage1.row(i)) == Array(conv1[(27 * i)..<(27 * i + 27)]) + Array(conv2[(144 * i)..<(144 * i + 144)]))
        }
        // A depthwise conv's filter belongs to its input channel: stem rows (27) then dw rows (9).
        let d = ExampleArchitecture.depthwise.build(seed: 4)
        let dg = ChannelGroups.analyze(d)
        let stem = FilterMatrix.producers(ofGroup: try group(dg, "stem.0"), groups: dg, lookup: ChannelGroupLookup(dg), graph: d)
        #expect(stem.rows == 16 && stem.width == 36)
        let dw = d.initializers["blocks.0.dw.weight"]!.floats()
        #expect(Array(stem.row(5).suffix(9)) == Array(dw[45..<54]))
    }

    @Test func gramThroughGEMMMatchesDirectDotProducts() {
        var rng = Xoshiro256StarStar(seed: 9)
        // Past one block of 128 rows, so that the mirrored blocks below the diagonal are checked too.
        let n = 300, d = 41
        let w = FilterMatrix(rows: n, width: d, values: (0..<(n * d)).map { _ in Float(2 * rng.nextDouble() - 1) })
        let geometry = FilterGeometry(w)
        for (i, j) in [(0, 0), (3, 17), (36, 1), (20, 20), (299, 3), (3, 299), (130, 129), (129, 130), (257, 256), (200, 70)] {
            var dot = 0.0, dist = 0.0
            for k in 0..<d {
                let a = Double(w.values[i * d + k]), b = Double(w.values[j * d + k])
                dot += a * b
                dist += (a - b) * (a - b)
            }
            #expect(abs(geometry.dot(i, j) - dot) < 1e-3)
            #expect(abs(geometry.distance(i, j) - dist.squareRoot()) < 1e-2)
        }
    }
}
