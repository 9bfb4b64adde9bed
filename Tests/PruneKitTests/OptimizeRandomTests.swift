import Testing
@testable import PruneKit

@Suite struct OptimizeRandomTests {
    @Test func splitMixMatchesTheReferenceSequence() {
        // Vigna's splitmix64.c from seed 1234567.
        var sm = SplitMix64(state: 1_234_567)
        #expect([sm.next(), sm.next(), sm.next()] == [6_457_827_717_110_365_317, 3_203_168_211_198_807_973, 9_817_491_932_198_370_423])
    }

    @Test func xoshiroMatchesAnIndependentImplementation() {
        // Values from a separate Python transcription of xoshiro256** seeded by SplitMix64.
        var rng = Xoshiro256StarStar(seed: 42)
        #expect((0..<4).map { _ in rng.next() } == [1_546_998_764_402_558_742, 6_990_951_692_964_543_102,
                                                     12_544_586_762_248_559_009, 17_057_574_109_182_124_193])
        var jumped = Xoshiro256StarStar(seed: 42)
        jumped.jump()
        #expect([jumped.next(), jumped.next()] == [5_766_981_335_298_035_530, 13_414_075_677_763_163_907])
        var zero = Xoshiro256StarStar(seed: 0)
        #expect([zero.next(), zero.next()] == [11_091_344_671_253_066_420, 13_793_997_310_169_335_082])
    }

    @Test func boundedDrawsStayInRangeAndCoverIt() {
        var rng = Xoshiro256StarStar(seed: 7)
        var counts = [Int](repeating: 0, count: 7)
        for _ in 0..<70_000 { counts[rng.nextInt(below: 7)] += 1 }
        #expect(counts.allSatisfy { abs($0 - 10_000) < 500 })
        for _ in 0..<10_000 {
            let u = rng.nextDouble()
            #expect(u >= 0 && u < 1)
        }
        #expect(rng.nextInt(below: 1) == 0)
    }

    @Test func shuffleIsAPermutationAndSeeded() {
        var a = Xoshiro256StarStar(seed: 3), b = Xoshiro256StarStar(seed: 3)
        var x = Array(0..<50), y = Array(0..<50)
        a.shuffle(&x)
        b.shuffle(&y)
        #expect(x == y)
        #expect(x != Array(0..<50))
        #expect(x.sorted() == Array(0..<50))
    }
}
