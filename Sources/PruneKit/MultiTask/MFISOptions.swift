/// What an MFIS run is asked to do (ALGORITHM.md §3): how much to prune, by which criteria,
/// whether filters may be shared, and how long the optimizer searches.
public struct MFISOptions: Sendable, Equatable {
    /// How the pruned size is decided.
    public enum Target: Sendable, Equatable, CustomStringConvertible {
        /// Pre-specified: each task keeps `max(1, round((1 − rate)·N))` channels of every prunable
        /// group (the convention of Li et al. and FPGM), honoured exactly by repair.
        case rate(Double)
        /// A global budget: each task's pruned model keeps at most this fraction of its
        /// parameters (or FLOPs); how much each group gives up is the optimizer's choice.
        case budget(BudgetMeasure, Double)
        /// The optimizer decides the per-group rates; the knee of the front is taken.
        case adaptive

        public var description: String {
            switch self {
            case let .rate(r): return "rate \(r)"
            case let .budget(m, f): return "budget \(m.rawValue)=\(f)"
            case .adaptive: return "adaptive"
            }
        }
    }

    public enum BudgetMeasure: String, Sendable, Equatable, CaseIterable {
        case params, flops
    }

    public enum Criterion: String, Sendable, Equatable, CaseIterable, Comparable {
        case magnitude, irreplaceability, shareability
        /// Data-driven (needs calibration data): the spread of the channel's activation on the
        /// data times its readers' weights (`ActivationCriterion`). It takes magnitude's place in
        /// the per-task objective, or joins it (the mean of the two) when both are asked.
        case activation
        public static func < (a: Criterion, b: Criterion) -> Bool {
            allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
        }
        /// The criteria used when none are named: the three data-free ones.
        public static let defaults: Set<Criterion> = [.magnitude, .irreplaceability, .shareability]
        /// With calibration data, activation takes magnitude's place: measured better on the
        /// digits models after recalibration and without it (scripts/mfis_quality/README.md).
        public static let defaultsWithData: Set<Criterion> = [.activation, .irreplaceability, .shareability]
        public static func defaults(withData: Bool) -> Set<Criterion> { withData ? defaultsWithData : defaults }
        /// Criteria that are measured on calibration data.
        public var needsData: Bool { self == .activation }
    }

    /// What the magnitude criterion measures of a channel.
    public enum MagnitudeScore: String, Sendable, Equatable, CaseIterable {
        /// L1 of the producer rows, times |γ| of a following BN (ALGORITHM.md §2).
        case producer
        /// That times the L1 of the consumers' input slices for the channel (output side).
        case producerTimesConsumer = "producer-consumer"
        /// The L1 of the consumers' input slices alone, each consumer's output rows scaled by its
        /// own BN as folding would (`MagnitudeCriterion.consumerL1`): how much the next layers read
        /// the channel. On BN-folded exports the producer's rows carry the BN's γ/σ, which ranks
        /// channels no better than chance (scripts/mfis_quality/README.md); the readers' weights do not.
        case consumer
    }

    /// Which weights irreplaceability (FPGM) compares the channels of a group by.
    public enum IrreplaceabilityRows: String, Sendable, Equatable, CaseIterable {
        /// The filters themselves (ALGORITHM.md §2).
        case producer
        /// What the next layers read each channel with (`FilterMatrix.consumers`, their BN folded
        /// in): on BN-folded exports the filters carry the BN's γ/σ, as for magnitude.
        case consumer
    }

    public var target: Target
    /// Criteria in use: magnitude and irreplaceability are objectives (one each per task);
    /// shareability guides the seeds' rankings and share bits.
    public var criteria: Set<Criterion>
    /// Share filters across tasks (and fold dropped near-twins into kept ones); off, every task
    /// is pruned on its own and nothing is merged.
    public var sharing: Bool
    /// τ: cosine similarity from which a dropped filter counts as a near-twin of a kept one and
    /// is folded into it (ALGORITHM.md §4); and how alike the tasks' filters must be to be
    /// shared (merging may move none further than √(2(1 − τ)) of its norm).
    public var twinThreshold: Double
    public var seed: UInt64
    public var generations: Int
    /// nil: Deb & Jain's size for the objective count's reference directions.
    public var population: Int?
    /// Kept channel counts are multiples of this (where the group has that many).
    public var roundTo: Int
    /// Fold each removed channel's constant output (its bias through ReLU, BN, ...) into its
    /// consumers' biases at surgery (`Graph.compensatingBiases`): data-free. Off by default: on
    /// the digits models (BN folded) it lowered accuracy in most settings, because a folded
    /// bias is β − γμ/σ, not the channel's mean output β (scripts/mfis_quality/README.md).
    public var biasCompensation: Bool
    /// Consumer by default: measured best on BN-folded exports, over ten sets of task models
    /// (scripts/mfis_quality/README.md).
    public var magnitudeScore: MagnitudeScore
    /// Consumer by default: measured better on BN-folded exports, one model or several pruned
    /// without sharing (scripts/mfis_quality/README.md); near-twins and merging still compare filters.
    public var irreplaceabilityRows: IrreplaceabilityRows
    /// With calibration data: how many members of the final front (the default pick first, then
    /// the knee or nearest-ideal, then storage levels, then each objective's extreme:
    /// `MFISSearch.candidateIndices`) are recalibrated and scored on the data (ALGORITHM.md §3).
    /// 1 takes the default pick; without data only the default pick is ever used. nil:
    /// `candidateCount(fineTuning:)` decides.
    public var candidates: Int?
    /// With several candidates scored in a multi-task job: the mean accuracy, in percentage points, that a candidate
    /// storing less may lose against the lowest-loss one and still be taken instead
    /// (`CandidateChoice`). 0 keeps the lowest loss, as ALGORITHM.md §3 has it.
    public var accuracyMargin: Double

    public init(target: Target = .rate(0.3), criteria: Set<Criterion> = Criterion.defaults, sharing: Bool = true,
                twinThreshold: Double = 0.95, seed: UInt64 = 0, generations: Int = 100, population: Int? = nil, roundTo: Int = 1,
                biasCompensation: Bool = false, magnitudeScore: MagnitudeScore = .consumer,
                irreplaceabilityRows: IrreplaceabilityRows = .consumer, candidates: Int? = nil,
                accuracyMargin: Double = MFISOptions.defaultAccuracyMargin) {
        self.target = target
        self.criteria = criteria
        self.sharing = sharing
        self.twinThreshold = twinThreshold
        self.seed = seed
        self.generations = generations
        self.population = population
        self.roundTo = roundTo
        self.biasCompensation = biasCompensation
        self.magnitudeScore = magnitudeScore
        self.irreplaceabilityRows = irreplaceabilityRows
        self.candidates = candidates
        self.accuracyMargin = accuracyMargin
    }

    /// The first thing wrong with these options, said so that a CLI flag or a config field can
    /// carry it; nil when they are usable. `field` names the option.
    public func problem() -> (field: String, message: String)? {
        switch target {
        case let .rate(r) where !(r.isFinite && r >= 0 && r < 1):
            return ("rate", "rate must be at least 0 and below 1 (the fraction of each prunable group's channels removed), got \(r)")
        case let .budget(m, f) where !(f.isFinite && f > 0 && f <= 1):
            return ("budget", "the \(m.rawValue) budget is the fraction of each model's \(m.rawValue) kept, in (0, 1]; got \(f)")
        default: break
        }
        if !hasSignalObjective && !criteria.contains(.irreplaceability) {
            return ("criteria", "needs magnitude, activation or irreplaceability: they are the objectives")
        }
        if !(twinThreshold.isFinite && twinThreshold > 0 && twinThreshold <= 1) {
            return ("twinThreshold", "must be in (0, 1], got \(twinThreshold)")
        }
        if generations < 0 || generations > 100_000 { return ("generations", "must be in 0...100000, got \(generations)") }
        if let p = population, p < 4 || p > 10_000 { return ("population", "must be in 4...10000, got \(p)") }
        if roundTo < 1 { return ("roundTo", "must be at least 1, got \(roundTo)") }
        if let k = candidates, k < 1 || k > Self.maxCandidates {
            return ("candidates", "must be in 1...\(Self.maxCandidates), got \(k)")
        }
        if !(accuracyMargin.isFinite && accuracyMargin >= 0 && accuracyMargin <= 100) {
            return ("accuracyMargin", "must be in 0...100 (percentage points of mean accuracy), got \(accuracyMargin)")
        }
        return nil
    }

    /// The list has at most 2 + 17 + M distinct members (the knee, the nearest-ideal point, the
    /// storage levels, one extreme per objective); 32 bounds the data stage's cost.
    public static let maxCandidates = 32

    /// Half a point: on the digits tasks (scripts/mfis_quality/README.md, "Best of K") it kept
    /// the mean test accuracy of the lowest-loss rule while the bundle stored 0.12–0.27 of the
    /// originals instead of 0.17–0.82.
    public static let defaultAccuracyMargin = 0.5

    /// Whether the margin applies to a job of `tasks` models: it trades accuracy for sharing,
    /// and one model has nothing to share (a smaller member would only prune more than asked).
    public static func marginApplies(tasks: Int) -> Bool { tasks > 1 }

    /// The candidates compared: as asked, else 8 — or 1 when the run fine-tunes. Measured on
    /// the digits tasks (scripts/mfis_quality/README.md): after recalibration alone 8 (the two
    /// default picks and six storage levels) let the margin find a bundle that shares; after
    /// fine-tuning the search's own pick (which shares filters, and so stores a third) ended
    /// as accurate or more, and the recalibrated loss no guide.
    public func candidateCount(fineTuning: Bool) -> Int {
        candidates ?? (fineTuning ? 1 : 8)
    }

    /// Objectives per task: magnitude lost and irreplaceability lost, in that order, as chosen.
    /// `.magnitude` stands for the signal objective, which activation replaces or joins.
    var perTaskObjectives: [Criterion] {
        (hasSignalObjective ? [Criterion.magnitude] : []) + (criteria.contains(.irreplaceability) ? [.irreplaceability] : [])
    }

    /// The per-task objective of what a task's dropped channels carried: by weight magnitude,
    /// by activation on data, or both (the mean of the two normalized scores).
    var hasSignalObjective: Bool { criteria.contains(.magnitude) || criteria.contains(.activation) }

    /// The signal objective's name in the report: `magnitude`, `activation`, `magnitude+activation`.
    var signalObjectiveName: String {
        switch (criteria.contains(.magnitude), criteria.contains(.activation)) {
        case (true, true): return "magnitude+activation"
        case (false, true): return "activation"
        default: return "magnitude"
        }
    }

    /// The per-task objectives' names, in order.
    var perTaskObjectiveNames: [String] {
        perTaskObjectives.map { $0 == .magnitude ? signalObjectiveName : $0.rawValue }
    }
}
