/// The MFIS part of `report.json`: what was asked, the final front, which solution was taken
/// and why, and what sharing saved.
public struct MFISReport: Sendable, Codable, Equatable {
    public struct Chosen: Sendable, Codable, Equatable {
        /// Index into `front` (nil when nothing was searched).
        public var index: Int?
        public var objectives: [Double]
        public var reason: String
    }

    /// Values stored (parameters and BN running statistics, `ModelStats.stored`): the original
    /// models together, the pruned models side by side, and the multi-task bundle with shared
    /// filters stored once.
    public struct Storage: Sendable, Codable, Equatable {
        public var original: Int
        public var beforeSharing: Int
        public var afterSharing: Int
    }

    public struct GroupSharing: Sendable, Codable, Equatable {
        public var name: String
        public var total: Int
        /// Kept channels per task, in task order.
        public var kept: [Int]
        /// Channels some task keeps.
        public var union: Int
        /// Shared filters (stored once for the tasks that keep them).
        public var shared: Int
    }

    public var target: String
    public var criteria: [String]
    public var sharing: Bool
    public var seed: UInt64
    public var generations: Int
    public var evaluations: Int
    public var objectives: [String]
    /// The final front's objective vectors (all minimized; see `objectives`), as every objective
    /// vector of the report to 6 significant digits (`ReportJSON.rounded`).
    public var front: [[Double]]
    public var chosen: Chosen
    public var storage: Storage
    public var groups: [GroupSharing]
    /// Dropped filters folded into a kept near-twin (inner sharing).
    public var folds: [Fold]
    /// Why `multitask.safetensors` + `index.json` were not written, when they were not (no run
    /// omits them today: with data the tasks are fine-tuned with shared filters tied).
    public var bundleOmitted: String? = nil
    /// With data and more than one candidate: the front members recalibrated and compared by
    /// held-out loss, in the order they were put forward; the lowest loss was taken.
    public var candidates: [Candidate]? = nil

    /// A front member compared on data (`CandidateComparison`).
    public struct Candidate: Sendable, Codable, Equatable {
        public struct TaskScore: Sendable, Codable, Equatable {
            public var task: String
            /// Mean held-out loss after recalibration: cross-entropy on the task's labels, or
            /// distillation from its unpruned model without labels (what fine-tuning minimizes).
            public var loss: Double
            /// Top-1 held-out accuracy after recalibration, 0...1.
            public var accuracy: Double
        }

        /// Index into `front`.
        public var index: Int
        public var objectives: [Double]
        /// Why it was put forward: `nearest-ideal`, `knee`, `extreme of <objective>`.
        public var reasons: [String]
        /// The tasks' losses summed: what the choice minimizes.
        public var heldOutLoss: Double
        public var meanAccuracy: Double
        public var tasks: [TaskScore]
        public var chosen: Bool
        /// Mean top-1 accuracy over the tasks on every sample of the audit file, when one was
        /// given (`PruningPipeline.Options.candidateAudit`); not used for the choice.
        public var auditAccuracy: Double? = nil
    }
}
