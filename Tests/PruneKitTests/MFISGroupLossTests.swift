import Foundation
import Testing
@testable import PruneKit

/// How a group's loss enters the magnitude objective: the dropped channels' share of the
/// group's (unit-sum) magnitude with a pre-specified rate, −ln(share retained) where the
/// optimizer sets the rates, so that cutting a group down to a channel is priced as the
/// failure it is.
@Suite struct MFISGroupLossTests {
    /// f_mag by hand: the mean over groups of `price(lost share)`.
    static func expected(_ evidence: [GroupEvidence], keep: [[Bool]], price: (Double) -> Double) -> Double {
        let total = zip(evidence, keep).reduce(0.0) { sum, pair in
            let (e, k) = pair
            return sum + price(k.indices.filter { !k[$0] }.reduce(0.0) { $0 + e.normalized[0].magnitude[$1] })
        }
        return total / Double(evidence.count)
    }

    @Test func adaptiveRatesPriceACollapsedGroupConvexly() throws {
        let aligned = try TaskFixtures.aligned(.vgg, count: 1)
        func problem(_ target: MFISOptions.Target) -> (MFISProblem, [GroupEvidence]) {
            let options = MFISOptions(target: target, criteria: [.magnitude], sharing: false)
            let evidence = GroupEvidence.collect(aligned, options: options)
            return (MFISProblem(aligned: aligned, evidence: evidence, options: options), evidence)
        }
        let sizes = aligned.prunableGroups.map(\.size)
        let dropped = sizes[0] - 1
        // The same number of channels dropped: all but one of the first group, or spread evenly.
        let collapsed = sizes.enumerated().map { p, n in (0..<n).map { p != 0 || $0 == 0 } }
        var spread = sizes.map { Array(repeating: true, count: $0) }
        for k in 0..<dropped { spread[k % sizes.count][k / sizes.count] = false }

        let (adaptive, evidence) = problem(.adaptive)
        let (fixed, _) = problem(.rate(0.3))
        for keep in [collapsed, spread] {
            let x = keep.flatMap { $0 }
            let convex = Self.expected(evidence, keep: keep) { -log(max(MFISProblem.leastRetained, 1 - $0)) }
            let linear = Self.expected(evidence, keep: keep) { $0 }
            #expect(abs(adaptive.evaluate(x).objectives[0] - convex) < 1e-12)
            #expect(abs(fixed.evaluate(x).objectives[0] - linear) < 1e-12)
        }
        // Collapsing costs far more than spreading the same cut, under the convex price.
        #expect(adaptive.evaluate(collapsed.flatMap { $0 }).objectives[0] > 2 * adaptive.evaluate(spread.flatMap { $0 }).objectives[0])
    }
}
