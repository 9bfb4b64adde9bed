import ArgumentParser
import Dispatch
import Foundation
import HTTPServer
import Logging
import PruneService
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the HTTP job service.",
        discussion: """
            Each option falls back to its environment variable, then to the default. Jobs live under \
            the data dir and survive restarts; SIGTERM or SIGINT stops accepting, finishes requests in \
            flight (up to --grace-period), puts running jobs back in the queue, and exits 0.

            Submit:   curl -F model=@net.onnx -F 'config={"rate":0.3}' http://localhost:8080/jobs
            """
    )

    @Option(help: "Address to listen on; :: listens on IPv6 and IPv4. (PRUNED_HOST, default ::)")
    var host: String?

    @Option(help: "TCP port. (PRUNED_PORT, default 8080)")
    var port: Int?

    @Option(name: .customLong("data-dir"), help: "Folder for jobs, uploads and results. (PRUNED_DATA_DIR, default ./pruned-data)")
    var dataDir: String?

    @Option(help: "Jobs run at once; the kernels already use every core. (PRUNED_WORKERS, default 1)")
    var workers: Int?

    @Option(name: .customLong("max-upload-bytes"), help: "Largest request body accepted, in bytes. (PRUNED_MAX_UPLOAD_BYTES, default 4294967296)")
    var maxUploadBytes: Int64?

    @Option(name: .customLong("retention-hours"), help: "Finished jobs are deleted this many hours after they finish. (PRUNED_RETENTION_HOURS, default 168)")
    var retentionHours: Double?

    @Option(name: .customLong("grace-period"), help: "Seconds to finish requests in flight on SIGTERM or SIGINT.")
    var gracePeriod: Double = 10

    /// Flag, then environment, then default.
    struct Settings {
        var host: String, port: Int, dataDir: String, workers: Int, maxUploadBytes: Int64, retentionHours: Double, token: String?
    }

    func settings(environment env: [String: String] = ProcessInfo.processInfo.environment) throws -> Settings {
        func number<T: LosslessStringConvertible>(_ flag: T?, _ name: String, _ fallback: T) throws -> T {
            if let flag { return flag }
            guard let raw = env[name], !raw.isEmpty else { return fallback }
            guard let v = T(raw) else { throw ValidationError("\(name)='\(raw)' is not a valid number") }
            return v
        }
        let s = Settings(
            host: host ?? env["PRUNED_HOST"].flatMap { $0.isEmpty ? nil : $0 } ?? "::",
            port: try number(port, "PRUNED_PORT", 8080),
            dataDir: dataDir ?? env["PRUNED_DATA_DIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "./pruned-data",
            workers: try number(workers, "PRUNED_WORKERS", 1),
            maxUploadBytes: try number(maxUploadBytes, "PRUNED_MAX_UPLOAD_BYTES", 4 << 30),
            retentionHours: try number(retentionHours, "PRUNED_RETENTION_HOURS", 168),
            token: env["PRUNED_TOKEN"].flatMap { $0.isEmpty ? nil : $0 })
        guard (0...65535).contains(s.port) else { throw ValidationError("port must be 0...65535, got \(s.port)") }
        guard (1...64).contains(s.workers) else { throw ValidationError("workers must be 1...64, got \(s.workers)") }
        guard s.maxUploadBytes > 0 else { throw ValidationError("max upload bytes must be positive") }
        guard s.retentionHours > 0 else { throw ValidationError("retention must be positive") }
        return s
    }

    func validate() throws {
        _ = try settings()
        guard gracePeriod >= 0 else { throw ValidationError("--grace-period must be at least 0") }
    }

    func run() async throws {
        // One line per request: buffered, so that logging does not cost a write(2) per request.
        LoggingSystem.bootstrap { BufferedLogHandler(label: $0, sink: .standardError) }
        defer { LogSink.standardError.flush() }
        let logger = Logger(label: "pruned")
        let s = try settings()
        signal(SIGPIPE, SIG_IGN)

        var config = PruneService.Configuration(dataDirectory: URL(fileURLWithPath: s.dataDir))
        config.workers = s.workers
        config.maxUploadBytes = s.maxUploadBytes
        config.retention = s.retentionHours * 3600
        config.token = s.token
        config.debugStageDelay = ProcessInfo.processInfo.environment["PRUNED_DEBUG_STAGE_DELAY_MS"].flatMap(Double.init).map { $0 / 1000 }
        let service = try PruneService(configuration: config, logger: logger)

        var http = HTTPServer.Configuration()
        http.host = s.host
        http.port = s.port
        http.limits.maxBodyBytes = s.maxUploadBytes
        http.logger = logger
        http.onRequestComplete = { record in
            service.record(record)
            logger.info("request", metadata: [
                "request": "\(record.requestID)", "method": "\(record.method)", "path": "\(record.target)",
                "status": "\(record.status)", "bytes_in": "\(record.bytesReceived)", "bytes_out": "\(record.bytesSent)",
                "ms": "\(record.duration.components.seconds * 1000 + record.duration.components.attoseconds / 1_000_000_000_000_000)",
            ])
        }
        let server = HTTPServer(configuration: http, immediate: { service.handleImmediately($0) }) { request in
            try await service.handle(request)
        }
        let bound = try server.start()
        logger.info("listening", metadata: ["host": "\(s.host)", "port": "\(bound)", "data_dir": "\(s.dataDir)", "workers": "\(s.workers)"])
        try service.start()

        await waitForTerminationSignal()
        logger.info("shutting down: no new requests, finishing those in flight")
        async let jobs: Void = service.drain(deadline: .seconds(gracePeriod))
        await server.shutdown(gracePeriod: .seconds(gracePeriod))
        await jobs
        logger.info("stopped")
    }

    /// Suspends until SIGTERM or SIGINT arrives.
    private func waitForTerminationSignal() async {
        signal(SIGTERM, SIG_IGN)
        signal(SIGINT, SIG_IGN)
        let queue = DispatchQueue(label: "pruned.signals")
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let once = SignalOnce(continuation)
            for sig in [SIGTERM, SIGINT] {
                let source = DispatchSource.makeSignalSource(signal: sig, queue: queue)
                source.setEventHandler { once.fire() }
                source.resume()
                once.keep(source)
            }
        }
    }
}

/// Resumes a continuation on the first signal only, and keeps the sources alive until then.
private final class SignalOnce: Sendable {
    private let state: Mutex<(continuation: CheckedContinuation<Void, Never>?, sources: [any DispatchSourceSignal])>
    init(_ c: CheckedContinuation<Void, Never>) { state = Mutex((c, [])) }
    func keep(_ s: any DispatchSourceSignal) { state.withLock { $0.sources.append(s) } }
    func fire() {
        let c = state.withLock { s -> CheckedContinuation<Void, Never>? in
            defer { s.continuation = nil }
            return s.continuation
        }
        c?.resume()
    }
}
