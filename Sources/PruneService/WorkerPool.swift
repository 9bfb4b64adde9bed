import Foundation
import Logging
import PruneKit
import Synchronization

/// N worker threads taking queued jobs in FIFO order and running the pruning pipeline.
///
/// Threads of our own, not Dispatch's global queues: a job computes for seconds to minutes
/// and would starve the pool the HTTP server's handlers run on.
public final class WorkerPool: Sendable {
    private let store: JobStore
    private let workerCount: Int
    private let logger: Logger
    private let events: JobEvents
    private let condition = NSCondition()
    private struct State {
        var pending: [String] = []
        var running: Set<String> = []
        var cancelled: Set<String> = []
        var draining = false
        var alive = 0
    }
    private let state = Mutex(State())
    /// Fault injection for tests: a pause at every stage of every job, so that a test can kill
    /// the process or cancel the job while it is surely running. Never set in production.
    private let debugStageDelay: Double?

    public init(store: JobStore, workers: Int, events: JobEvents, debugStageDelay: Double? = nil,
                logger: Logger = Logger(label: "pruned.workers")) {
        self.debugStageDelay = debugStageDelay
        self.store = store
        self.workerCount = max(1, workers)
        self.events = events
        self.logger = logger
    }

    /// Starts the threads with the store's queued jobs, oldest first.
    public func start() {
        let queued = store.queued().map(\.id)
        state.withLock { $0.pending = queued; $0.alive = workerCount }
        for i in 0..<workerCount {
            let thread = Thread { [self] in self.loop() }
            thread.name = "pruned-worker-\(i)"
            thread.stackSize = 8 << 20
            thread.start()
        }
    }

    public func enqueue(_ id: String) {
        condition.lock()
        state.withLock { $0.pending.append(id) }
        condition.signal()
        condition.unlock()
    }

    public var queueLength: Int { state.withLock { $0.pending.count } }
    public var runningCount: Int { state.withLock { $0.running.count } }

    /// Asks a running job to stop at its next checkpoint; removes a queued one from the queue.
    /// Returns true when the job was running.
    @discardableResult
    public func cancel(_ id: String) -> Bool {
        state.withLock { s in
            s.pending.removeAll { $0 == id }
            guard s.running.contains(id) else { return false }
            s.cancelled.insert(id)
            return true
        }
    }

    /// Stops taking jobs; running ones stop at their next checkpoint and go back to the queue.
    /// Returns when every worker has exited or `deadline` passed.
    public func drain(deadline: Duration) async {
        stopTakingJobs()
        let clock = ContinuousClock()
        let end = clock.now.advanced(by: deadline)
        while state.withLock({ $0.alive > 0 }) && clock.now < end {
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    private func stopTakingJobs() {
        condition.lock()
        state.withLock { $0.draining = true }
        condition.broadcast()
        condition.unlock()
    }

    private func loop() {
        defer { state.withLock { $0.alive -= 1 } }
        while true {
            condition.lock()
            var next: String?
            while true {
                let (draining, id) = state.withLock { s -> (Bool, String?) in
                    if s.draining { return (true, nil) }
                    guard !s.pending.isEmpty else { return (false, nil) }
                    let id = s.pending.removeFirst()
                    s.running.insert(id)
                    return (false, id)
                }
                if draining { condition.unlock(); return }
                if let id { next = id; break }
                condition.wait()
            }
            condition.unlock()
            if let id = next {
                run(id)
                state.withLock { $0.running.remove(id); $0.cancelled.remove(id) }
            }
        }
    }

    private func isStopping(_ id: String) -> Bool {
        state.withLock { $0.cancelled.contains(id) || $0.draining }
    }

    private func run(_ id: String) {
        guard let job = store.job(id), job.status == .queued else { return }
        let log = logger.with(job: id)
        let started = Date()
        do {
            try transition(id) { j in
                j.status = .running
                j.stage = "load"
                j.startedAt = started
                j.progress = 0
            }
            log.info("job running", metadata: ["models": "\(job.models.map(\.name))"])
            let formats = PruningPipeline.OutputFormat(rawValue: job.config.format) ?? .same
            let options = try job.config.mfisOptions(withData: job.data != nil)
            // The search reports every generation; the job is written (fsync) when the stage
            // changes and at most every quarter second within one.
            let shown = Mutex((stage: "", at: Date.distantPast))
            let pipeline = PruningPipeline(
                options: .init(mfis: options, format: formats, inputShapes: job.config.inputShape,
                               data: job.data.map { _ in store.dataFile(of: id) },
                               training: job.config.training),
                hooks: .init(
                    progress: { [self] stage, fraction in
                        let now = Date()
                        let (changed, due) = shown.withLock { s -> (Bool, Bool) in
                            let changed = s.stage != stage
                            let due = changed || now.timeIntervalSince(s.at) >= 0.25
                            if due { s = (stage, now) }
                            return (changed, due)
                        }
                        if changed, let pause = self.debugStageDelay {
                            // In slices, so that a cancellation still lands within the pause.
                            for _ in 0..<Int(pause / 0.01) where !self.isStopping(id) { Thread.sleep(forTimeInterval: 0.01) }
                        }
                        // Pruning is 90% of the job; bundling the result the rest.
                        if due { self.advance(id, stage: stage, progress: 0.9 * fraction, started: started) }
                    },
                    isCancelled: { [self] in self.isStopping(id) }))
            let inputs = job.models.map { store.inputs(of: id).appendingPathComponent($0.name) }
            let artifacts = store.artifacts(of: id)
            let report = try pipeline.run(models: inputs, outputDirectory: artifacts)
            if isStopping(id) { throw CancellationError() }
            advance(id, stage: "bundle", progress: 0.9, started: started)
            let files = try FileManager.default.contentsOfDirectory(atPath: artifacts.path)
                .filter { !$0.hasPrefix(".") && $0 != ResultBundle.fileName }.sorted()
            try ResultBundle.write(files: files, from: artifacts, to: artifacts.appendingPathComponent(ResultBundle.fileName))
            let listed = try (files + [ResultBundle.fileName]).map { name -> Job.Artifact in
                let size = try FileManager.default.attributesOfItem(atPath: artifacts.appendingPathComponent(name).path)[.size] as? Int64 ?? 0
                return Job.Artifact(name: name, bytes: size)
            }
            try transition(id) { j in
                j.status = .succeeded
                j.stage = "done"
                j.progress = 1
                j.etaSeconds = 0
                j.finishedAt = Date()
                j.artifacts = listed
                j.summary = report.models.map {
                    Job.TaskSummary(task: $0.task, paramsBefore: $0.before.params, paramsAfter: $0.after.params,
                                    flopsBefore: $0.before.flops, flopsAfter: $0.after.flops,
                                    accuracyBefore: $0.accuracy?.beforePruning.accuracy,
                                    accuracyAfter: $0.accuracy.map { ($0.afterFineTuning ?? $0.afterRecalibration ?? $0.afterPruning).accuracy })
                }
            }
            log.info("job succeeded", metadata: ["seconds": "\(String(format: "%.2f", Date().timeIntervalSince(started)))"])
        } catch is CancellationError {
            let requeue = state.withLock { $0.draining && !$0.cancelled.contains(id) }
            try? FileManager.default.removeItem(at: store.artifacts(of: id))
            try? FileManager.default.createDirectory(at: store.artifacts(of: id), withIntermediateDirectories: true)
            try? transition(id) { j in
                if requeue {
                    j.status = .queued; j.stage = "queued"; j.startedAt = nil
                } else {
                    j.status = .cancelled; j.stage = "cancelled"; j.finishedAt = Date()
                }
                j.progress = 0
                j.etaSeconds = nil
            }
            log.info(requeue ? "job back in the queue (shutting down)" : "job cancelled")
        } catch {
            try? transition(id) { j in
                j.status = .failed
                j.stage = "failed"
                j.finishedAt = Date()
                j.etaSeconds = nil
                j.error = Job.Failure(code: Self.code(for: error), message: "\(error)")
            }
            log.warning("job failed", metadata: ["error": "\(error)"])
        }
    }

    static func code(for error: any Error) -> String {
        switch error {
        case is ModelFile.Failure, is PruningPipeline.Failure, is SurgeryError, is ForwardError, is TrainingError, is CalibrationError,
             is AlignedTasks.Mismatch:
            return "invalid_model"
        case is TrainingDataError: return "invalid_data"
        case is JobConfig.Invalid, is MFISSearch.Unreachable: return "invalid_config"
        default: return "internal"
        }
    }

    private func transition(_ id: String, _ change: (inout Job) -> Void) throws {
        if let job = try store.update(id, change) { events.publish(job) }
    }

    private func advance(_ id: String, stage: String, progress: Double, started: Date) {
        let elapsed = Date().timeIntervalSince(started)
        let job = try? store.update(id) { j in
            j.stage = stage
            j.progress = max(j.progress, progress)
            j.etaSeconds = j.progress > 0.05 ? elapsed * (1 - j.progress) / j.progress : nil
        }
        if let job = job ?? nil { events.publish(job) }
    }
}

extension Logger {
    func with(job id: String) -> Logger {
        var copy = self
        copy[metadataKey: "job"] = "\(id)"
        return copy
    }
}
