import Foundation
import Synchronization
import Testing
@testable import PruneKit

/// Keep/drop channels of three blocks: the first objective is the score of what is dropped,
/// the second the fraction kept. Repair keeps at least one channel per block.
struct ToyPruning: BlockBinaryProblem {
    let layout = BlockLayout(sizes: [8, 8, 8])
    let scores: [Double] = (0..<24).map { Double(($0 * 37) % 24 + 1) / 24 }
    var objectiveCount: Int { 2 }

    func evaluate(_ x: [Bool]) -> Evaluation {
        var lost = 0.0
        for i in x.indices where !x[i] { lost += scores[i] }
        return Evaluation(objectives: [lost, Double(x.filter { $0 }.count) / 24])
    }

    func repair(_ x: inout [Bool], using rng: inout Xoshiro256StarStar) {
        for r in layout.ranges where !x[r].contains(true) {
            // Keep the block's best channel.
            x[r.max { scores[$0] < scores[$1] }!] = true
        }
    }

    /// The true front: for each count, the block bests, then the best of the rest.
    var optimalFront: Set<[Double]> {
        let bests = layout.ranges.map { r in r.max { scores[$0] < scores[$1] }! }
        let rest = scores.indices.filter { !bests.contains($0) }.sorted { scores[$0] > scores[$1] }
        return Set((3...24).map { count in
            var keep = Set(bests)
            keep.formUnion(rest.prefix(count - 3))
            return evaluate(scores.indices.map { keep.contains($0) }).objectives
        })
    }
}

/// DTLZ2 with two objectives, feasible only where f₁ ≥ 0.5.
struct ConstrainedDTLZ2: RealValuedProblem {
    let base = DTLZ(.dtlz2, objectives: 2, k: 5)
    var objectiveCount: Int { 2 }
    var bounds: [ClosedRange<Double>] { base.bounds }

    func evaluate(_ x: [Double]) -> Evaluation {
        let f = base.evaluate(x).objectives
        return Evaluation(objectives: f, constraintViolation: max(0, 0.5 - f[0]))
    }
}

@Suite struct OptimizeNSGA3Tests {
    @Test func reachesTheDTLZ2FrontWithDebAndJainsSettings() {
        let problem = DTLZ(.dtlz2, objectives: 3)
        let directions = ReferenceDirections.dasDennis(objectives: 3, partitions: 12)
        let configuration = NSGA3Configuration(referenceDirections: directions, generations: 250, seed: 1)
        #expect(configuration.populationSize == 92)
        let result = NSGA3(problem: problem, configuration: configuration).run()
        let igd = Indicators.igd(result.front.map(\.objectives), reference: problem.targetedPoints(directions)!)
        #expect(igd < 2.5e-3)
        #expect(result.generations == 250 && result.evaluations == 92 * 251 && !result.wasCancelled)
        #expect(result.population.count == 92)
    }

    @Test func sameSeedSameRunOnAnyThreadCount() {
        let problem = DTLZ(.dtlz1, objectives: 3)
        let directions = ReferenceDirections.dasDennis(objectives: 3, partitions: 6)
        func run(seed: UInt64, parallel: Bool) -> [[Double]] {
            let configuration = NSGA3Configuration(referenceDirections: directions, generations: 40, seed: seed,
                                                   parallelEvaluation: parallel)
            return NSGA3(problem: problem, configuration: configuration).run().population.map(\.variables)
        }
        let first = run(seed: 7, parallel: false)
        #expect(run(seed: 7, parallel: false) == first)
        #expect(run(seed: 7, parallel: true) == first)
        #expect(run(seed: 8, parallel: false) != first)
    }

    @Test func reportsEveryGenerationAndStopsWhenCancelled() {
        let problem = DTLZ(.dtlz2, objectives: 3)
        let configuration = NSGA3Configuration(referenceDirections: .dasDennis(objectives: 3, partitions: 4), generations: 30, seed: 3)
        var reports: [GenerationProgress] = []
        let result = NSGA3(problem: problem, configuration: configuration).run(
            progress: { reports.append($0) },
            isCancelled: { reports.count > 5 }
        )
        #expect(reports.map(\.generation) == Array(0...5))
        #expect(result.wasCancelled && result.generations == 5)
        #expect(reports.last!.evaluations == result.evaluations && result.evaluations == 16 * 6)
        #expect(reports.allSatisfy { $0.bestObjectives.count == 3 && $0.generations == 30 && $0.feasibleCount == 16 })
        // The best value per objective is the population's minimum.
        let minima = (0..<3).map { k in result.population.map { $0.objectives[k] }.min()! }
        #expect(reports.last!.bestObjectives == minima)
        #expect(!result.front.isEmpty)
    }

    @Test func constraintDominationKeepsTheFeasibleFront() {
        let problem = ConstrainedDTLZ2()
        let configuration = NSGA3Configuration(referenceDirections: .dasDennis(objectives: 2, partitions: 19), generations: 100, seed: 4)
        let result = NSGA3(problem: problem, configuration: configuration).run()
        #expect(result.front.count > 5)
        #expect(result.front.allSatisfy { $0.isFeasible && $0.objectives[0] >= 0.5 })
        // On the unit circle's arc: g ≈ 0 was found.
        #expect(result.front.allSatisfy { abs($0.objectives.reduce(0) { $0 + $1 * $1 } - 1) < 0.05 })
    }

    @Test func infeasibleStartSurvivesByLeastViolation() {
        // Every start point violates; the run must still make progress toward feasibility.
        let problem = ConstrainedDTLZ2()
        let start = (0..<20).map { _ in [0.99] + Array(repeating: 0.0, count: 5) }  // f₁ ≈ 0.02·(1+g)
        let configuration = NSGA3Configuration(referenceDirections: .dasDennis(objectives: 2, partitions: 19), generations: 60, seed: 5)
        let initialViolation = problem.evaluate(start[0]).constraintViolation
        #expect(initialViolation > 0)
        var firstReport: GenerationProgress?
        let result = NSGA3(problem: problem, configuration: configuration).run(initialPopulation: start, progress: { report in
            if firstReport == nil { firstReport = report }
        })
        #expect(firstReport?.feasibleCount == 0)
        #expect(result.front.allSatisfy(\.isFeasible) && !result.front.isEmpty)
    }

    @Test func blockBinaryEncodingFindsTheFront() {
        let problem = ToyPruning()
        let configuration = NSGA3Configuration(referenceDirections: .dasDennis(objectives: 2, partitions: 23), generations: 400, seed: 6)
        let result = NSGA3(problem: problem, configuration: configuration).run()
        #expect(result.population.allSatisfy { x in (0..<3).allSatisfy { problem.layout.keptCount(x.variables, block: $0) >= 1 } })
        // Every kept count from 3 to 24 is on the front, at (or within one swap of) its optimum.
        let found = Dictionary(result.front.map { ($0.objectives[1], $0.objectives[0]) }, uniquingKeysWith: min)
        let optimal = problem.optimalFront
        #expect(found.count == optimal.count)
        #expect(optimal.allSatisfy { point in found[point[1]].map { $0 - point[0] <= 0.1 } ?? false })
        #expect(optimal.filter { found[$0[1]] == $0[0] }.count >= optimal.count - 4)
        // Duplicates were eliminated: no two members share a mask.
        #expect(Set(result.population.map(\.variables)).count == result.population.count)
    }

    @Test func firstIndexByHashKeepsTheFirstIndexPerHash() {
        // Keys that share their low bits (probing chains), negative keys and repeats, against
        // a Dictionary that keeps the first value per key.
        var rng = Xoshiro256StarStar(seed: 12)
        let keys = (0..<200).map { _ in (rng.nextInt(below: 60) - 30) << 12 | rng.nextInt(below: 3) }
        var table = FirstIndexByHash(capacity: keys.count)
        var reference: [Int: Int] = [:]
        for (i, k) in keys.enumerated() {
            #expect(table.first(k) == reference[k])
            table.insertIfAbsent(k, i)
            if reference[k] == nil { reference[k] = i }
        }
        for k in Set(keys) { #expect(table.first(k) == reference[k]) }
        #expect(table.first(1 << 40) == nil && table.first(-5) == nil)
    }

    @Test func initialPopulationIsRepairedAndUsed() {
        let problem = ToyPruning()
        let none = [Bool](repeating: false, count: 24)
        let configuration = NSGA3Configuration(referenceDirections: .dasDennis(objectives: 2, partitions: 23), generations: 0, seed: 9)
        let result = NSGA3(problem: problem, configuration: configuration).run(initialPopulation: [none])
        // Repair turned "keep nothing" into "keep each block's best", the sparsest optimum.
        let sparsest = problem.optimalFront.min { $0[1] < $1[1] }!
        #expect(result.population.contains { $0.objectives == sparsest })
        #expect(result.generations == 0 && result.evaluations == 24)
    }

    @Test func parallelEvaluationCallsTheProblemOncePerCandidate() {
        final class Calls: Sendable {
            let count = Atomic<Int>(0)
        }
        struct Counting: RealValuedProblem {
            let calls = Calls()
            var objectiveCount: Int { 2 }
            var bounds: [ClosedRange<Double>] { [0...1, 0...1] }
            func evaluate(_ x: [Double]) -> Evaluation {
                calls.count.add(1, ordering: .relaxed)
                return Evaluation(objectives: [x[0], 1 - x[0] + x[1]])
            }
        }
        let problem = Counting()
        let configuration = NSGA3Configuration(referenceDirections: .dasDennis(objectives: 2, partitions: 9), generations: 5,
                                               seed: 1, parallelEvaluation: true)
        let result = NSGA3(problem: problem, configuration: configuration).run()
        #expect(problem.calls.count.load(ordering: .relaxed) == result.evaluations)
    }
}
