import Foundation
import HTTPServer
import Logging
import PruneKit
import Synchronization

/// The job service: routes over a durable job store and a worker pool.
public final class PruneService: Sendable {
    public struct Configuration: Sendable {
        public var dataDirectory: URL
        public var workers = 1
        public var maxUploadBytes: Int64 = 4 << 30
        /// Finished jobs are deleted this long after they finish.
        public var retention: TimeInterval = 7 * 24 * 3600
        /// When set, `/jobs` routes need `Authorization: Bearer <token>`.
        public var token: String?
        /// Seconds to pause at every job stage: fault injection for tests (`PRUNED_DEBUG_STAGE_DELAY_MS`).
        public var debugStageDelay: Double?
        public init(dataDirectory: URL) { self.dataDirectory = dataDirectory }
    }

    enum Phase: String { case recovering, ready, draining }

    public let configuration: Configuration
    public let store: JobStore
    public let pool: WorkerPool
    public let events = JobEvents()
    public let metrics = Metrics()
    let logger: Logger
    private let phase = Mutex(Phase.recovering)
    private let retentionTask = Mutex<Task<Void, Never>?>(nil)

    public init(configuration: Configuration, logger: Logger = Logger(label: "pruned")) throws {
        self.configuration = configuration
        self.logger = logger
        store = try JobStore(dataDirectory: configuration.dataDirectory, logger: logger)
        pool = WorkerPool(store: store, workers: configuration.workers, events: events,
                          debugStageDelay: configuration.debugStageDelay, logger: logger)
    }

    /// Recovers the store, starts the workers and retention; `/readyz` turns ready after.
    public func start() throws {
        let r = try store.recover()
        logger.info("recovered jobs", metadata: [
            "jobs": "\(r.loaded)", "requeued": "\(r.requeued.count)",
            "removed_uploads": "\(r.removedUploads)", "removed_broken": "\(r.removedBroken.count)", "quarantined": "\(r.quarantined.count)",
        ])
        pool.start()
        let interval = max(1, min(60, configuration.retention / 10))
        retentionTask.withLock {
            $0 = Task.detached { [self] in
                while !Task.isCancelled {
                    self.applyRetention()
                    try? await Task.sleep(for: .seconds(interval))
                }
            }
        }
        phase.withLock { $0 = .ready }
    }

    public var isReady: Bool { phase.withLock { $0 } == .ready }

    /// Not ready any more, no new jobs; running jobs stop at their next checkpoint and go back to the queue.
    public func drain(deadline: Duration) async {
        phase.withLock { $0 = .draining }
        retentionTask.withLock { $0?.cancel() }
        await pool.drain(deadline: deadline)
    }

    func applyRetention() {
        for id in store.expired(olderThan: configuration.retention) {
            do {
                try store.delete(id)
                logger.info("job deleted by retention", metadata: ["job": "\(id)"])
            } catch {
                logger.warning("retention could not delete job", metadata: ["job": "\(id)", "error": "\(error)"])
            }
        }
    }

    /// Feeds `/metrics` from the server's access records.
    public func record(_ access: HTTPAccessRecord) {
        let route = Route.of(access.path)?.rawValue ?? "unmatched"
        metrics.record(route: route, method: access.method.rawValue, status: access.status,
                       seconds: Double(access.duration.components.seconds) + Double(access.duration.components.attoseconds) / 1e18,
                       bytesIn: access.bytesReceived, bytesOut: access.bytesSent)
    }

    // MARK: dispatch

    public func handle(_ request: HTTPRequest) async throws -> HTTPResponse {
        do {
            switch try triage(request) {
            case .answered(let response): return response
            case .later(let route, let params): return try await respond(request, route: route, params: params)
            }
        } catch let error as any HTTPResponseError {
            return .error(error)
        }
    }

    /// The server's immediate handler: answers what needs neither I/O nor waiting (a job's
    /// state, health, errors) on the connection's queue; nil for the rest, which `handle` gets.
    public func handleImmediately(_ request: HTTPRequest) -> HTTPResponse? {
        do {
            switch try triage(request) {
            case .answered(let response): return response
            case .later: return nil
            }
        } catch let error as any HTTPResponseError {
            return .error(error)
        } catch {
            return nil
        }
    }

    private enum Triage {
        case answered(HTTPResponse)
        case later(Route, [String: String])
    }

    /// Routing, `405`, authorization, and the routes that answer from memory.
    private func triage(_ request: HTTPRequest) throws -> Triage {
        guard let (route, params) = Route.match(request.path) else {
            throw HTTPError.notFound("no route for \(request.path)")
        }
        guard route.methods.contains(request.method) else {
            return .answered(.methodNotAllowed(request.method, allowed: route.methods))
        }
        if let token = configuration.token, route == .jobs || route == .job || route == .result || route == .artifact {
            guard Self.bearerMatches(request.headers["Authorization"], token: token) else {
                throw HTTPError(.unauthorized, code: "unauthorized", message: "send Authorization: Bearer <token>",
                                headers: ["WWW-Authenticate": "Bearer"])
            }
        }
        switch route {
        case .healthz:
            return .answered(.json(#"{"status":"ok"}"#))
        case .readyz:
            let p = phase.withLock { $0 }
            return .answered(.json("{\"status\":\"\(p.rawValue)\"}", status: p == .ready ? .ok : .serviceUnavailable))
        case .job where request.method != .delete:
            let id = params["id"]!
            guard Job.isValidID(id), let json = store.jobJSON(id) else { throw HTTPError.notFound("no job \(id)") }
            return .answered(.bytes(json, contentType: "application/json"))
        default:
            return .later(route, params)
        }
    }

    private func respond(_ request: HTTPRequest, route: Route, params: [String: String]) async throws -> HTTPResponse {
        switch route {
        case .healthz, .readyz:
            preconditionFailure("answered by triage")
        case .metrics:
            let text = metrics.render(jobs: store.counts(), queueLength: pool.queueLength, running: pool.runningCount)
            return HTTPResponse.bytes(Array(text.utf8), contentType: "text/plain; version=0.0.4; charset=utf-8").gzipped(for: request.head)
        case .jobs:
            return request.method == .post ? try await submit(request) : try listJobs(request)
        case .job:
            return try await delete(try existingJob(params["id"]!))
        case .result:
            let job = try finishedJob(params["id"]!)
            return try await HTTPResponse.file(
                at: store.artifacts(of: job.id).appendingPathComponent(ResultBundle.fileName).path, for: request.head,
                contentType: "application/gzip", compressible: false,
                headers: ["Content-Disposition": "attachment; filename=\"pruned-\(job.id).tar.gz\""])
        case .artifact:
            let job = try finishedJob(params["id"]!)
            let name = params["name"]!
            guard job.artifacts?.contains(where: { $0.name == name }) == true else {
                throw HTTPError.notFound("job \(job.id) has no artifact '\(name)' (it has: \((job.artifacts ?? []).map(\.name).joined(separator: ", ")))")
            }
            let type = name.hasSuffix(".json") ? "application/json" : name.hasSuffix(".tar.gz") ? "application/gzip" : "application/octet-stream"
            return try await HTTPResponse.file(
                at: store.artifacts(of: job.id).appendingPathComponent(name).path, for: request.head,
                contentType: type, compressible: !name.hasSuffix(".gz"),
                headers: ["Content-Disposition": "attachment; filename=\"\(name)\""])
        }
    }

    /// `Bearer <token>`, the scheme case-insensitive (RFC 9110 §11.1), the token compared in constant time.
    static func bearerMatches(_ header: String?, token: String) -> Bool {
        guard let header, header.count > 7, header.prefix(7).lowercased() == "bearer " else { return false }
        let given = Array(header.dropFirst(7).trimmingCharacters(in: .whitespaces).utf8), expected = Array(token.utf8)
        guard given.count == expected.count else { return false }
        return zip(given, expected).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }

    func json<T: Encodable>(_ value: T, status: HTTPStatus = .ok, headers: HTTPHeaders = [:]) throws -> HTTPResponse {
        var r = HTTPResponse.bytes(Array(try JSONEncoder.service.encode(value)), status: status, contentType: "application/json")
        for f in headers { r.headers[f.name] = f.value }
        return r
    }

    private func existingJob(_ id: String) throws -> Job {
        guard Job.isValidID(id), let job = store.job(id) else { throw HTTPError.notFound("no job \(id)") }
        return job
    }

    private func finishedJob(_ id: String) throws -> Job {
        let job = try existingJob(id)
        switch job.status {
        case .succeeded: return job
        case .failed:
            throw HTTPError(.conflict, code: "job_failed", message: "job \(id) failed: \(job.error?.message ?? "")")
        case .cancelled:
            throw HTTPError(.conflict, code: "job_cancelled", message: "job \(id) was cancelled")
        case .queued, .running:
            throw HTTPError(.conflict, code: "not_ready", message: "job \(id) is \(job.status.rawValue) (\(Int(job.progress * 100))%); poll GET /jobs/\(id)")
        }
    }

    private func listJobs(_ request: HTTPRequest) throws -> HTTPResponse {
        var status: Job.Status?
        var limit = 20
        var after: String?
        for (name, value) in request.head.queryParameters {
            switch name {
            case "status":
                guard let s = Job.Status(rawValue: value) else {
                    throw HTTPError.badRequest("status must be one of \(Job.Status.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                status = s
            case "limit":
                guard let n = Int(value), (1...100).contains(n) else { throw HTTPError.badRequest("limit must be 1...100") }
                limit = n
            case "after":
                after = value
            default:
                throw HTTPError.badRequest("unknown query parameter '\(name)' (known: status, limit, after)")
            }
        }
        struct Page: Encodable {
            var jobs: [Job]
            var next: String?
            func encode(to encoder: any Encoder) throws {
                var c = encoder.container(keyedBy: CodingKeys.self)
                try c.encode(jobs, forKey: .jobs)
                try c.encode(next, forKey: .next)  // null on the last page, not left out
            }
            enum CodingKeys: String, CodingKey { case jobs, next }
        }
        guard let page = store.list(status: status, limit: limit, after: after) else {
            throw HTTPError.badRequest("cursor '\(after ?? "")' names no job (deleted since?); start again without 'after'")
        }
        return try json(Page(jobs: page.jobs, next: page.next)).gzipped(for: request.head)
    }

    private func delete(_ job: Job) async throws -> HTTPResponse {
        switch job.status {
        case .queued:
            pool.cancel(job.id)
            let updated = try store.update(job.id) { j in
                if j.status == .queued { j.status = .cancelled; j.stage = "cancelled"; j.finishedAt = Date() }
            }
            if let updated { events.publish(updated) }
            return try json(updated ?? job)
        case .running:
            pool.cancel(job.id)
            // The worker stops at its next checkpoint; wait for it, up to a second.
            for _ in 0..<50 {
                if store.job(job.id)?.status != .running { break }
                try? await Task.sleep(for: .milliseconds(20))
            }
            let now = store.job(job.id) ?? job
            return try json(now, status: now.status == .running ? .accepted : .ok)
        case .succeeded, .failed, .cancelled:
            try store.delete(job.id)
            return HTTPResponse(status: .noContent)
        }
    }
}
