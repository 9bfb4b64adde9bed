public struct NSGA3Configuration: Sendable {
    public var referenceDirections: ReferenceDirections
    /// Deb & Jain: the smallest multiple of 4 not below the number of directions.
    public var populationSize: Int
    /// Generations of variation and survival after the initial population.
    public var generations: Int
    public var seed: UInt64
    /// Evaluate each generation's children on all cores. Pays off when one evaluation costs
    /// more than tens of microseconds; results do not depend on it.
    public var parallelEvaluation: Bool
    /// Redraw children identical to a member of the population or to an earlier child (binary
    /// encodings produce many; a duplicate wastes a place on the front).
    public var eliminateDuplicates: Bool

    public init(referenceDirections: ReferenceDirections, populationSize: Int? = nil, generations: Int,
                seed: UInt64 = 0, parallelEvaluation: Bool = false, eliminateDuplicates: Bool = true) {
        let size = populationSize ?? ReferenceDirections.populationSize(forDirections: referenceDirections.count)
        precondition(size >= 2, "population size must be at least 2")
        precondition(generations >= 0, "generations must not be negative")
        self.referenceDirections = referenceDirections
        self.populationSize = size
        self.generations = generations
        self.seed = seed
        self.parallelEvaluation = parallelEvaluation
        self.eliminateDuplicates = eliminateDuplicates
    }
}

/// Reported after the initial population (generation 0) and after every generation.
public struct GenerationProgress: Sendable, Equatable {
    public var generation: Int
    public var generations: Int
    public var evaluations: Int
    /// Per objective, the smallest value in the population among feasible members (among all
    /// members while none is feasible).
    public var bestObjectives: [Double]
    public var feasibleCount: Int

    public init(generation: Int, generations: Int, evaluations: Int, bestObjectives: [Double], feasibleCount: Int) {
        self.generation = generation
        self.generations = generations
        self.evaluations = evaluations
        self.bestObjectives = bestObjectives
        self.feasibleCount = feasibleCount
    }
}

public struct OptimizationResult<Variables: Sendable>: Sendable {
    /// The final population.
    public var population: [Individual<Variables>]
    /// Its non-dominated feasible members (the least-violating ones while none is feasible).
    public var front: [Individual<Variables>]
    /// Generations completed (fewer than asked when cancelled).
    public var generations: Int
    public var evaluations: Int
    public var wasCancelled: Bool

    public init(population: [Individual<Variables>], front: [Individual<Variables>], generations: Int,
                evaluations: Int, wasCancelled: Bool) {
        self.population = population
        self.front = front
        self.generations = generations
        self.evaluations = evaluations
        self.wasCancelled = wasCancelled
    }
}

/// NSGA-III (Deb & Jain 2014): mating by binary tournament on constraint violation (random
/// among feasible parents, as the paper), variation by the encoding's operators, and
/// reference-direction survival over parents and children together.
///
/// Where the paper leaves a choice open we follow pymoo's NSGA3, and measured the choice on
/// DTLZ1-4 (Benchmarks/RESULTS-optimizer.md): tournaments drawn from shuffled copies of the
/// population, normalization kept across generations, duplicate children redrawn.
///
/// The generation loop is `@inlinable` so that callers in other modules get it specialized
/// for their problem and encoding (unspecialized, generic dispatch costs a third of the time).
public struct NSGA3<Problem: MultiObjectiveProblem, Operators: Variation>: Sendable where Operators.Variables == Problem.Variables {
    public typealias Variables = Problem.Variables

    public let problem: Problem
    public let variation: Operators
    public let configuration: NSGA3Configuration

    public init(problem: Problem, variation: Operators, configuration: NSGA3Configuration) {
        precondition(problem.objectiveCount == configuration.referenceDirections.objectiveCount,
                     "problem has \(problem.objectiveCount) objectives, directions have \(configuration.referenceDirections.objectiveCount)")
        self.problem = problem
        self.variation = variation
        self.configuration = configuration
    }

    /// Runs the configured generations.
    ///
    /// - Parameters:
    ///   - initialPopulation: candidates to start from (say, rankings by a criterion); they are
    ///     repaired, and random samples fill the rest of the population. Extra ones are dropped.
    ///   - progress: called on the calling thread after each generation.
    ///   - isCancelled: asked before each generation; when it returns true the run stops and
    ///     returns what it has, with `wasCancelled` set.
    @inlinable
    public func run(initialPopulation: [Variables] = [], progress: ((GenerationProgress) -> Void)? = nil,
                    isCancelled: () -> Bool = { false }) -> OptimizationResult<Variables> {
        let n = configuration.populationSize
        var rng = Xoshiro256StarStar(seed: configuration.seed)
        var survival = ReferenceDirectionSurvival(configuration.referenceDirections)

        var start: [Variables] = []
        start.reserveCapacity(n)
        for var x in initialPopulation.prefix(n) {
            problem.repair(&x, using: &rng)
            start.append(x)
        }
        while start.count < n {
            var x = variation.sample(using: &rng)
            problem.repair(&x, using: &rng)
            start.append(x)
        }
        var population = evaluate(start)
        var evaluations = n
        // Hashes of the members' variables, kept along so duplicates cost one hash per child.
        var hashes = configuration.eliminateDuplicates ? population.map { variation.fingerprint($0.variables) } : []
        progress?(report(population, generation: 0, evaluations: evaluations))

        var completed = 0
        var cancelled = false
        for generation in stride(from: 1, through: configuration.generations, by: 1) {
            if isCancelled() {
                cancelled = true
                break
            }
            let (offspring, offspringHashes) = makeChildren(of: population, hashes: hashes, count: n, using: &rng)
            let children = evaluate(offspring)
            evaluations += children.count
            let (objectives, violations) = flatten(population, children)
            let survivors = survival.select(objectives: objectives, violations: violations, count: n, using: &rng)
            population = survivors.map { $0 < population.count ? population[$0] : children[$0 - population.count] }
            if configuration.eliminateDuplicates {
                let mergedHashes = hashes + offspringHashes
                hashes = survivors.map { mergedHashes[$0] }
            }
            completed = generation
            progress?(report(population, generation: generation, evaluations: evaluations))
        }

        let fronts = NondominatedSorting.fronts(population.map(\.objectives), violations: population.map(\.constraintViolation))
        return OptimizationResult(population: population, front: fronts.first.map { $0.map { population[$0] } } ?? [],
                                  generations: completed, evaluations: evaluations, wasCancelled: cancelled)
    }

    /// `count` children, repaired, with the hashes of their variables when duplicates are
    /// eliminated (a child equal to a member or to an earlier child is drawn again).
    @inlinable
    func makeChildren(of population: [Individual<Variables>], hashes: [Int], count n: Int,
                      using rng: inout Xoshiro256StarStar) -> (children: [Variables], hashes: [Int]) {
        let dedupe = configuration.eliminateDuplicates
        // Hash → a candidate with that hash (members first, then children); equality decides.
        var seen = FirstIndexByHash(capacity: dedupe ? population.count + n : 0)
        if dedupe {
            for (i, h) in hashes.enumerated() { seen.insertIfAbsent(h, i) }
        }
        func variables(_ i: Int, _ children: [Variables]) -> Variables {
            i < population.count ? population[i].variables : children[i - population.count]
        }
        var children: [Variables] = []
        var childHashes: [Int] = []
        children.reserveCapacity(n)
        // Past this many pairs, duplicates are accepted: the encoding may have few distinct
        // candidates left near the population.
        let patience = 20 * n
        var pairs = 0
        func add(_ c: inout Variables) {
            problem.repair(&c, using: &rng)
            guard dedupe else {
                children.append(c)
                return
            }
            let h = variation.fingerprint(c)
            if let other = seen.first(h), variables(other, children) == c, pairs < patience { return }
            seen.insertIfAbsent(h, population.count + children.count)
            children.append(c)
            childHashes.append(h)
        }
        var mating = MatingSelection(count: population.count)
        while children.count < n {
            let a = mating.next(population, using: &rng)
            let b = mating.next(population, using: &rng)
            var (c1, c2) = variation.offspring(population[a].variables, population[b].variables, using: &rng)
            pairs += 1
            add(&c1)
            if children.count < n { add(&c2) }
        }
        return (children, childHashes)
    }

    /// The objectives of `a` then `b`, row-major, and their violations: what survival reads.
    @inlinable
    func flatten(_ a: [Individual<Variables>], _ b: [Individual<Variables>]) -> (objectives: [Double], violations: [Double]) {
        let count = a.count + b.count
        var objectives: [Double] = []
        var violations: [Double] = []
        objectives.reserveCapacity(count * problem.objectiveCount)
        violations.reserveCapacity(count)
        for i in a.indices {
            objectives.append(contentsOf: a[i].objectives)
            violations.append(a[i].constraintViolation)
        }
        for i in b.indices {
            objectives.append(contentsOf: b[i].objectives)
            violations.append(b[i].constraintViolation)
        }
        return (objectives, violations)
    }

    @inlinable
    func evaluate(_ xs: [Variables]) -> [Individual<Variables>] {
        let m = problem.objectiveCount
        let evaluations: [Evaluation]
        if configuration.parallelEvaluation {
            let problem = self.problem
            evaluations = concurrentMap(xs) { problem.evaluate($0) }
        } else {
            evaluations = xs.map { problem.evaluate($0) }
        }
        return zip(xs, evaluations).map { x, e in
            precondition(e.objectives.count == m, "evaluate returned \(e.objectives.count) objectives, expected \(m)")
            precondition(!e.constraintViolation.isNaN, "evaluate returned a NaN constraint violation")
            return Individual(variables: x, evaluation: e)
        }
    }

    @inlinable
    func report(_ population: [Individual<Variables>], generation: Int, evaluations: Int) -> GenerationProgress {
        let feasible = population.filter(\.isFeasible)
        let pool = feasible.isEmpty ? population : feasible
        let m = problem.objectiveCount
        var best = Array(repeating: Double.infinity, count: m)
        for member in pool {
            for k in 0..<m { best[k] = min(best[k], member.objectives[k]) }
        }
        return GenerationProgress(generation: generation, generations: configuration.generations, evaluations: evaluations,
                                  bestObjectives: best, feasibleCount: feasible.count)
    }
}

extension NSGA3 where Problem: RealValuedProblem, Operators == RealVariation {
    /// SBX (η = 30) and polynomial mutation (η = 20, rate 1/n) over the problem's bounds.
    public init(problem: Problem, configuration: NSGA3Configuration) {
        self.init(problem: problem, variation: RealVariation(bounds: problem.bounds), configuration: configuration)
    }
}

extension NSGA3 where Problem: BlockBinaryProblem, Operators == BlockBinaryVariation {
    /// Uniform block crossover, count-keeping swaps and bit flips over the problem's layout.
    public init(problem: Problem, configuration: NSGA3Configuration) {
        self.init(problem: problem, variation: BlockBinaryVariation(layout: problem.layout), configuration: configuration)
    }
}

/// Binary tournaments as in Deb's NSGA-II/III code: contestants are drawn from shuffled
/// copies of the population, so every member enters the same number of tournaments; the
/// smaller constraint violation wins, and between feasible members a coin decides (no
/// pressure: NSGA-III selects in survival, not in mating).
@usableFromInline
struct MatingSelection {
    @usableFromInline var order: [Int] = []
    @usableFromInline var position = 0
    @usableFromInline let count: Int

    @inlinable
    init(count: Int) {
        self.count = count
    }

    @inlinable
    mutating func next<V>(_ population: [Individual<V>], using rng: inout Xoshiro256StarStar) -> Int {
        if position + 2 > order.count {
            order = Array(0..<count)
            rng.shuffle(&order)
            position = 0
            if count < 2 { return 0 }
        }
        let a = order[position], b = order[position + 1]
        position += 2
        let va = population[a].constraintViolation, vb = population[b].constraintViolation
        if va != vb { return va < vb ? a : b }
        return rng.chance(0.5) ? a : b
    }
}
