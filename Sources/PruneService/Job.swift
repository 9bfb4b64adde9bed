import Foundation
import PruneKit

/// A pruning job as `job.json` stores it and `GET /jobs/{id}` shows it.
public struct Job: Sendable, Codable, Equatable {
    public enum Status: String, Sendable, Codable, CaseIterable {
        case queued, running, succeeded, failed, cancelled
        public var isFinished: Bool { self == .succeeded || self == .failed || self == .cancelled }
    }

    public struct Input: Sendable, Codable, Equatable {
        /// File name as uploaded (`net.onnx`); its stem names the task.
        public var name: String
        public var task: String
        public var format: String
        public var bytes: Int64
    }

    public struct Failure: Sendable, Codable, Equatable {
        public var code: String
        public var message: String
    }

    public struct Artifact: Sendable, Codable, Equatable {
        public var name: String
        public var bytes: Int64
    }

    /// Per task: size and cost before and after pruning.
    public struct TaskSummary: Sendable, Codable, Equatable {
        public var task: String
        public var paramsBefore: Int
        public var paramsAfter: Int
        public var flopsBefore: Int?
        public var flopsAfter: Int?
        /// Held-out top-1 accuracy (0...1) of the unpruned model and of the model written
        /// (recalibrated, fine-tuned), when the job came with data.
        public var accuracyBefore: Double?
        public var accuracyAfter: Double?
    }

    public var id: String
    public var status: Status
    /// What the job is doing now: `queued`, `load`, `analyze`, `criteria`, `optimize`, `merge`,
    /// `surgery`, `banks`, (with data `candidates` before `merge`, `evaluate`, `recalibrate`, `finetune`), `write`, `bundle`
    /// (the result archive), then `done`, `failed` or `cancelled`.
    public var stage: String
    /// 0...1 over the whole job.
    public var progress: Double
    public var createdAt: Date
    public var startedAt: Date?
    public var finishedAt: Date?
    /// Seconds left, estimated from progress so far while running.
    public var etaSeconds: Double?
    public var config: JobConfig
    public var models: [Input]
    public var data: Input?
    public var error: Failure?
    public var summary: [TaskSummary]?
    public var artifacts: [Artifact]?
    /// How many times a restart put this job back in the queue.
    public var attempts: Int

    public init(id: String, config: JobConfig, models: [Input], data: Input?, createdAt: Date = Date()) {
        self.id = id
        self.status = .queued
        self.stage = "queued"
        self.progress = 0
        self.createdAt = createdAt
        self.config = config
        self.models = models
        self.data = data
        self.attempts = 0
    }

    private enum CodingKeys: String, CodingKey {
        case id, status, stage, progress, createdAt, startedAt, finishedAt, etaSeconds, config, models, data, error, summary, artifacts, attempts
    }

    /// Fields added in later versions are optional or defaulted here, so that an upgrade never
    /// makes an accepted job unreadable.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        status = try c.decode(Status.self, forKey: .status)
        stage = try c.decodeIfPresent(String.self, forKey: .stage) ?? status.rawValue
        progress = try c.decodeIfPresent(Double.self, forKey: .progress) ?? 0
        createdAt = try c.decode(Date.self, forKey: .createdAt)
        startedAt = try c.decodeIfPresent(Date.self, forKey: .startedAt)
        finishedAt = try c.decodeIfPresent(Date.self, forKey: .finishedAt)
        etaSeconds = try c.decodeIfPresent(Double.self, forKey: .etaSeconds)
        config = try c.decodeIfPresent(JobConfig.self, forKey: .config) ?? JobConfig()
        models = try c.decode([Input].self, forKey: .models)
        data = try c.decodeIfPresent(Input.self, forKey: .data)
        error = try c.decodeIfPresent(Failure.self, forKey: .error)
        summary = try c.decodeIfPresent([TaskSummary].self, forKey: .summary)
        artifacts = try c.decodeIfPresent([Artifact].self, forKey: .artifacts)
        attempts = try c.decodeIfPresent(Int.self, forKey: .attempts) ?? 0
    }

    /// 128 random bits as 32 lowercase hex digits.
    public static func newID() -> String {
        var rng = SystemRandomNumberGenerator()
        return (0..<2).map { _ in String(rng.next() as UInt64, radix: 16) }.map { String(repeating: "0", count: 16 - $0.count) + $0 }.joined()
    }

    public static func isValidID(_ id: String) -> Bool {
        id.utf8.count == 32 && id.utf8.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0) }
    }
}

extension JSONEncoder {
    /// The service's JSON: sorted keys, ISO 8601 dates.
    static var service: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        e.dateEncodingStrategy = .iso8601
        return e
    }
}

extension JSONDecoder {
    static var service: JSONDecoder {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .iso8601
        return d
    }
}
