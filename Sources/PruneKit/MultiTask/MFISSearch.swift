/// Solving the MFIS problem with NSGA-III and picking one solution from the front
/// (ALGORITHM.md §3): nearest the ideal point when the rate or a budget is given, the knee when
/// the rate is adaptive.
public struct MFISSolution: Sendable {
    /// `[t][p][i]`: task t keeps channel i of prunable group p.
    public var keep: [[[Bool]]]
    /// `[p][i]`: channel i of prunable group p is one shared filter (for the tasks keeping it).
    public var share: [[Bool]]
    public var objectives: [Double]
    public var objectiveNames: [String]
    /// The front: the objective vectors of every non-dominated feasible candidate evaluated
    /// (seeds included); `chosen` indexes it (nil when nothing was searched).
    public var front: [[Double]]
    public var chosen: Int?
    /// How the solution was picked, in words, for the report.
    public var reason: String
    public var generations: Int
    public var evaluations: Int
    /// Front members to compare on data (`MFISCandidate`), this solution first; empty when
    /// there was nothing to choose from.
    public var candidates: [MFISCandidate] = []
}

public enum MFISSearch {
    public struct Unreachable: Error, CustomStringConvertible {
        public var description: String
    }

    public static func objectiveNames(tasks: [String], options: MFISOptions) -> [String] {
        tasks.flatMap { t in options.perTaskObjectiveNames.map { "\($0)[\(t)]" } } + ["size"]
    }

    /// Runs the search. `progress` is called after every generation; when `isCancelled` turns
    /// true the run stops at the next generation and `CancellationError` is thrown.
    public static func run(_ problem: MFISProblem, tasks: [String],
                           progress: ((GenerationProgress) -> Void)? = nil,
                           isCancelled: () -> Bool = { false }) throws -> MFISSolution {
        let options = problem.options
        let names = objectiveNames(tasks: tasks, options: options)
        let nothingToChoose = problem.layout.bitCount == 0
            || (problem.targetCounts == problem.sizes && !problem.hasShareBits)
        if nothingToChoose {
            let x = [Bool](repeating: true, count: problem.layout.bitCount)
            return solution(problem, x, evaluation: problem.evaluate(x), names: names, front: [], chosen: nil,
                            reason: "nothing to choose: every task keeps every channel", generations: 0, evaluations: 1)
        }
        if case let .rate(r) = options.target, !options.sharing, let only = options.perTaskObjectives.first,
           options.perTaskObjectives.count == 1 {
            // Fixed counts, no sharing, one criterion: each task's loss is a sum over its groups of
            // the dropped channels' scores, and size is fixed, so every group's top channels by the
            // criterion make the one optimum (Li et al.'s selection, for magnitude).
            let x = problem.seed(.init(magnitudeWeight: only == .magnitude ? 1 : 0, shareWeight: 0, consensus: 0, shareFrom: 2, rate: r))
            let e = problem.evaluate(x)
            return solution(problem, x, evaluation: e, names: names, front: [e.objectives], chosen: 0,
                            reason: "pre-specified rate \(r) with \(options.perTaskObjectiveNames[0]) alone and no sharing: each group's top channels by it are the optimum, no search needed",
                            generations: 0, evaluations: 1)
        }
        if case let .budget(measure, fraction) = options.target {
            if measure == .flops && problem.cost.macs == nil {
                throw Unreachable(description: "a FLOPs budget needs every conv's output shape, and the model's input shape is not fixed: "
                    + "export it with a fixed input shape, or give one (pruned prune --input-shape NAME=1x3x224x224; the service's inputShape)")
            }
            let smallest = problem.uniformCounts(rate: 0.999_999)
            if problem.budgetViolation(smallest) > 0 {
                throw Unreachable(description: "the \(measure.rawValue) budget \(fraction) cannot be met: even one channel per prunable group keeps more")
            }
        }
        let m = problem.objectiveCount
        let directions: ReferenceDirections
        let size: Int
        if let p = options.population {
            directions = Self.directions(objectives: m, fitting: p)
            size = p
        } else {
            directions = ReferenceDirections.deb2014(objectives: m)
            size = ReferenceDirections.populationSize(forDirections: directions.count)
        }
        let configuration = NSGA3Configuration(referenceDirections: directions, populationSize: size,
                                               generations: options.generations, seed: options.seed,
                                               parallelEvaluation: problem.layout.bitCount >= 2048)
        let archive = MFISArchive()
        let optimizer = NSGA3(problem: ArchivedMFISProblem(inner: problem, archive: archive), variation: MFISVariation(problem: problem),
                              configuration: configuration)
        let result = optimizer.run(initialPopulation: problem.seeds(limit: size), progress: progress, isCancelled: isCancelled)
        if result.wasCancelled { throw CancellationError() }

        let members = archive.snapshot()
        guard !members.isEmpty else {
            // Nothing met the budget: the least violating member of the last population, said so.
            let least = result.population.indices.min { (result.population[$0].constraintViolation, $0) < (result.population[$1].constraintViolation, $1) }!
            let picked = result.population[least]
            return solution(problem, picked.variables, evaluation: Evaluation(objectives: picked.objectives, constraintViolation: picked.constraintViolation),
                            names: names, front: [picked.objectives], chosen: 0,
                            reason: "no candidate met the \(options.target); the least violating one (\(picked.constraintViolation) over) is taken",
                            generations: result.generations, evaluations: result.evaluations)
        }
        let front = members.map(\.objectives)
        let chosen: Int
        let reason: String
        let pick: String
        switch options.target {
        case .adaptive:
            chosen = FrontChoice.knee(front) ?? 0
            pick = "knee"
            reason = "adaptive rate: the knee of the final front (the members no other candidate the search evaluated beats in every objective): the largest distance beyond the hyperplane through its extremes, objectives scaled to the front's range"
        case let .rate(r):
            chosen = nearestToIdeal(front)
            pick = "nearest-ideal"
            reason = "pre-specified rate \(r): of the final front (the members no other candidate the search evaluated beats in every objective), the one nearest the ideal point, in the objectives' own units (fractions lost and stored)"
        case let .budget(measure, fraction):
            chosen = nearestToIdeal(front)
            pick = "nearest-ideal"
            reason = "\(measure.rawValue) budget \(fraction): of the final front's feasible members (those no other candidate the search evaluated beats in every objective), the one nearest the ideal point, in the objectives' own units (fractions lost and stored)"
        }
        var picked = solution(problem, MFISArchive.unpack(members[chosen].packed, count: problem.layout.bitCount),
                              evaluation: Evaluation(objectives: members[chosen].objectives), names: names, front: front, chosen: chosen,
                              reason: reason, generations: result.generations, evaluations: result.evaluations)
        picked.candidates = candidateIndices(front: front, chosen: chosen, chosenReason: pick, target: options.target, names: names,
                                             limit: options.candidateCount(fineTuning: false),
                                             smallerLevels: MFISOptions.marginApplies(tasks: problem.taskCount)).map { index, reasons in
            let c = solution(problem, MFISArchive.unpack(members[index].packed, count: problem.layout.bitCount),
                             evaluation: Evaluation(objectives: members[index].objectives), names: names, front: front, chosen: index,
                             reason: "", generations: 0, evaluations: 0)
            return MFISCandidate(keep: c.keep, share: c.share, objectives: c.objectives, index: index, reasons: reasons)
        }
        return picked
    }

    /// Index of the point nearest (Euclidean) to the front's ideal point, the objectives taken
    /// as they are. They are normalized already (a fraction of each group lost, a fraction of
    /// the originals stored); scaling them again by the front's own range would weigh a
    /// negligible spread (merging filters 1 % apart) as much as halving the storage.
    static func nearestToIdeal(_ front: [[Double]]) -> Int {
        guard let m = front.first?.count else { return 0 }
        let ideal = (0..<m).map { k in front.map { $0[k] }.min()! }
        func distance(_ p: [Double]) -> Double { zip(p, ideal).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } }
        return front.indices.min { (distance(front[$0]), $0) < (distance(front[$1]), $1) } ?? 0
    }

    /// The largest Das-Dennis lattice (at least one partition) with no more directions than
    /// the population.
    static func directions(objectives m: Int, fitting population: Int) -> ReferenceDirections {
        var p = 1
        while let next = ReferenceDirections.dasDennisCount(objectives: m, partitions: p + 1), next <= population { p += 1 }
        return .dasDennis(objectives: m, partitions: p)
    }

    static func solution(_ problem: MFISProblem, _ x: [Bool], evaluation: Evaluation, names: [String], front: [[Double]],
                         chosen: Int?, reason: String, generations: Int, evaluations: Int) -> MFISSolution {
        let T = problem.taskCount, P = problem.groupCount
        let keep = (0..<T).map { t in
            (0..<P).map { p in Array(x[problem.keepOffset[t * P + p]..<(problem.keepOffset[t * P + p] + problem.sizes[p])]) }
        }
        let share = (0..<P).map { p in
            problem.hasShareBits ? Array(x[problem.shareOffset[p]..<(problem.shareOffset[p] + problem.sizes[p])])
                : Array(repeating: false, count: problem.sizes[p])
        }
        return MFISSolution(keep: keep, share: share, objectives: evaluation.objectives, objectiveNames: names, front: front,
                            chosen: chosen, reason: reason, generations: generations, evaluations: evaluations)
    }
}
