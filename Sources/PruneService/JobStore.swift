import Foundation
import Logging
import Synchronization

/// Jobs on disk, one folder each, and their state in memory.
///
/// ```
/// <data dir>/jobs/<id>/job.json        state, rewritten atomically on every change
/// <data dir>/jobs/<id>/inputs/         the uploaded models (and data)
/// <data dir>/jobs/<id>/artifacts/      pruned models, report.json, result.tar.gz
/// <data dir>/jobs/<id>/data.safetensors  the job's data file, when one came
/// <data dir>/uploads/<random>/         uploads in progress; moved to jobs/ when complete
/// <data dir>/quarantine/<id>/          jobs whose job.json could not be read at start
/// ```
/// A job exists once its folder is in `jobs/` with a `job.json`: the upload is written
/// under `uploads/` and renamed into place whole, so a crash never leaves half a job.
public final class JobStore: Sendable {
    public let dataDirectory: URL
    private let jobs = Mutex<[String: Entry]>([:])
    /// Each job's JSON again, behind a lock of its own: `update` holds `jobs` while it writes
    /// and fsyncs job.json, and `jobJSON` serves requests on the HTTP server's own queues,
    /// which must never wait on a disk. Set under `jobs`, so changes land in order.
    private let published = Mutex<[String: [UInt8]]>([:])
    private let logger: Logger

    public var jobsDirectory: URL { dataDirectory.appendingPathComponent("jobs") }
    public var uploadsDirectory: URL { dataDirectory.appendingPathComponent("uploads") }
    /// Jobs whose job.json could not be read at start, kept for inspection.
    public var quarantineDirectory: URL { dataDirectory.appendingPathComponent("quarantine") }

    /// A job and its JSON as `job.json` holds it and `GET /jobs/{id}` sends it: encoded once per
    /// change, when it is written, rather than once per read (JSONEncoder is slow on Linux).
    private struct Entry {
        var job: Job
        var json: [UInt8]
    }

    public init(dataDirectory: URL, logger: Logger = Logger(label: "pruned.jobs")) throws {
        self.dataDirectory = dataDirectory.standardizedFileURL
        self.logger = logger
        for dir in [jobsDirectory, uploadsDirectory] {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        }
    }

    public func directory(of id: String) -> URL { jobsDirectory.appendingPathComponent(id) }
    public func inputs(of id: String) -> URL { directory(of: id).appendingPathComponent("inputs") }
    public func artifacts(of id: String) -> URL { directory(of: id).appendingPathComponent("artifacts") }
    /// Where the `data` part of a job is kept (when it came with one).
    public func dataFile(of id: String) -> URL { directory(of: id).appendingPathComponent("data.safetensors") }

    public struct Recovery: Sendable, Equatable {
        public var loaded = 0
        public var requeued: [String] = []
        public var removedUploads = 0
        public var removedBroken: [String] = []
        public var quarantined: [String] = []
        /// Jobs found running once too often: failed as `interrupted`, not queued again.
        public var abandoned: [String] = []
    }

    /// A job the service was stopped under (a crash, a kill) this many times is failed instead
    /// of queued again: if the job itself brings the process down, retrying forever would
    /// keep the whole service down.
    public static let maxAttempts = 3

    /// Loads every job; those found `running` go back to `queued` (a restart interrupted them),
    /// or fail as `interrupted` at their `maxAttempts`-th interruption;
    /// uploads that never completed are removed, and so are job folders without a readable `job.json`.
    @discardableResult
    public func recover() throws -> Recovery {
        var r = Recovery()
        let fm = FileManager.default
        for name in (try? fm.contentsOfDirectory(atPath: uploadsDirectory.path)) ?? [] {
            try? fm.removeItem(at: uploadsDirectory.appendingPathComponent(name))
            r.removedUploads += 1
        }
        var loaded: [String: Entry] = [:]
        for name in try fm.contentsOfDirectory(atPath: jobsDirectory.path) where !name.hasPrefix(".") {
            let file = directory(of: name).appendingPathComponent("job.json")
            guard Job.isValidID(name), fm.fileExists(atPath: file.path) else {
                // A crash between mkdir and the first job.json can leave this; it was never accepted.
                logger.warning("removing job folder without a job.json", metadata: ["job": "\(name)"])
                try? fm.removeItem(at: directory(of: name))
                r.removedBroken.append(name)
                continue
            }
            guard let data = try? Data(contentsOf: file), var job = try? JSONDecoder.service.decode(Job.self, from: data), job.id == name else {
                // An accepted job we cannot read: keep its files for a person to look at, out of the way.
                let aside = quarantineDirectory.appendingPathComponent(name)
                try? fm.createDirectory(at: quarantineDirectory, withIntermediateDirectories: true)
                try? fm.moveItem(at: directory(of: name), to: aside)
                logger.error("job.json unreadable; job moved aside", metadata: ["job": "\(name)", "to": "\(aside.path)"])
                r.quarantined.append(name)
                continue
            }
            let json: [UInt8]
            if job.status == .running {
                let stage = job.stage
                job.attempts += 1
                job.etaSeconds = nil
                if job.attempts >= Self.maxAttempts {
                    job.status = .failed
                    job.stage = "failed"
                    job.finishedAt = Date()
                    job.error = Job.Failure(code: "interrupted", message: "the service stopped \(job.attempts) times while this job ran "
                        + "(a crash or a kill, last during stage '\(stage)'); it is not retried again")
                    r.abandoned.append(job.id)
                    logger.error("job interrupted too often; failed", metadata: ["job": "\(job.id)", "attempts": "\(job.attempts)"])
                } else {
                    job.status = .queued
                    job.stage = "queued"
                    job.progress = 0
                    job.startedAt = nil
                    r.requeued.append(job.id)
                }
                json = try persist(job)
            } else {
                // Encoded afresh rather than taken from the file: an older version may have written it.
                json = Array(try JSONEncoder.service.encode(job))
            }
            loaded[job.id] = Entry(job: job, json: json)
        }
        jobs.withLock { all in
            all = loaded
            published.withLock { $0 = loaded.mapValues(\.json) }
        }
        r.loaded = loaded.count
        return r
    }

    /// A fresh folder under `uploads/` to stream an upload into.
    public func newUpload() throws -> URL {
        let dir = uploadsDirectory.appendingPathComponent(Job.newID())
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("inputs"), withIntermediateDirectories: true)
        return dir
    }

    /// Makes a complete upload a job: writes its `job.json` and renames the folder into `jobs/`.
    public func commit(upload: URL, job: Job) throws {
        try FileManager.default.createDirectory(at: upload.appendingPathComponent("artifacts"), withIntermediateDirectories: true)
        let json = Array(try JSONEncoder.service.encode(job))
        try DurableFile.write(Data(json), to: upload.appendingPathComponent("job.json"))
        try DurableFile.move(upload, to: directory(of: job.id))
        jobs.withLock { all in
            all[job.id] = Entry(job: job, json: json)
            published.withLock { $0[job.id] = json }
        }
    }

    public func job(_ id: String) -> Job? { jobs.withLock { $0[id]?.job } }

    /// The job's JSON, exactly as `JSONEncoder.service` encodes it, without encoding it again.
    /// Never waits for a write in progress (it returns the state before it).
    public func jobJSON(_ id: String) -> [UInt8]? { published.withLock { $0[id] } }

    /// Applies `change` and writes the result durably; nil when there is no such job.
    @discardableResult
    public func update(_ id: String, _ change: (inout Job) -> Void) throws -> Job? {
        // The lock is held while writing so that two updates of one job land in order.
        try jobs.withLock { all -> Job? in
            guard var job = all[id]?.job else { return nil }
            change(&job)
            let json = try persist(job)
            all[id] = Entry(job: job, json: json)
            published.withLock { $0[id] = json }
            return job
        }
    }

    /// Writes `job.json` durably and returns what it wrote.
    private func persist(_ job: Job) throws -> [UInt8] {
        let json = Array(try JSONEncoder.service.encode(job))
        try DurableFile.write(Data(json), to: directory(of: job.id).appendingPathComponent("job.json"))
        return json
    }

    /// Newest first; `status` filters; `after` is the id of the last job of the previous page.
    /// nil when `cursor` names no job (deleted since, or never): the caller should say so rather than start over.
    public func list(status: Job.Status? = nil, limit: Int, after cursor: String? = nil) -> (jobs: [Job], next: String?)? {
        let all = jobs.withLock { $0.values.map(\.job) }
            .filter { status == nil || $0.status == status }
            .sorted { ($0.createdAt, $0.id) > ($1.createdAt, $1.id) }
        var start = 0
        if let cursor {
            guard let i = all.firstIndex(where: { $0.id == cursor }) else { return nil }
            start = i + 1
        }
        let page = Array(all[min(start, all.count)..<min(start + limit, all.count)])
        let next = start + limit < all.count ? page.last?.id : nil
        return (page, next)
    }

    /// Queued jobs, oldest first (the worker pool's FIFO).
    public func queued() -> [Job] {
        jobs.withLock { $0.values.map(\.job) }.filter { $0.status == .queued }.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
    }

    public func counts() -> [Job.Status: Int] {
        jobs.withLock { all in
            var c: [Job.Status: Int] = [:]
            for s in Job.Status.allCases { c[s] = 0 }
            for e in all.values { c[e.job.status, default: 0] += 1 }
            return c
        }
    }

    /// Removes a job and its files: renamed away first so that it vanishes at once.
    public func delete(_ id: String) throws {
        let removed = jobs.withLock { all -> Bool in
            published.withLock { _ = $0.removeValue(forKey: id) }
            return all.removeValue(forKey: id) != nil
        }
        guard removed else { return }
        let trash = uploadsDirectory.appendingPathComponent("deleted-\(id)")
        try DurableFile.move(directory(of: id), to: trash)
        try? FileManager.default.removeItem(at: trash)
    }

    /// Finished jobs older than `age`, to be deleted by retention.
    public func expired(olderThan age: TimeInterval, now: Date = Date()) -> [String] {
        jobs.withLock { $0.values.map(\.job) }.filter { j in
            j.status.isFinished && (j.finishedAt ?? j.createdAt).addingTimeInterval(age) < now
        }.map(\.id)
    }
}
