import Dispatch
import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// swift-log's `StreamLogHandler` line format, written in batches: the service logs a line per
/// request, and a `write(2)` per line (plus `localtime`, which stats the zone file each time)
/// was a large part of the cost of a small request.
///
/// Lines below `.warning` are buffered and written by a background queue within
/// `LogSink.delay`; a warning or worse writes the buffer at once, in order, before returning.
/// Call `LogSink.flush()` before exiting (a crash can lose up to `delay` of info lines).
public struct BufferedLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadataProvider: Logger.MetadataProvider?
    public var metadata = Logger.Metadata() {
        didSet { prettyMetadata = Self.prettify(metadata) }
    }
    private var prettyMetadata: String?
    private let label: String
    private let sink: LogSink

    public init(label: String, sink: LogSink, metadataProvider: Logger.MetadataProvider? = LoggingSystem.metadataProvider) {
        self.label = label
        self.sink = sink
        self.metadataProvider = metadataProvider
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var line = sink.timestamp()
        line.reserveCapacity(256)
        line += " "
        line += event.level.rawValue
        if !label.isEmpty {
            line += " "
            line += label
        }
        line += ":"
        let provided = metadataProvider?.get() ?? [:]
        let explicit = event.metadata ?? [:]
        if provided.isEmpty && event.error == nil && (metadata.isEmpty || explicit.isEmpty) {
            // One source of metadata (the common case): no merged copy.
            if !explicit.isEmpty {
                Self.append(explicit, to: &line)
            } else if let prettyMetadata {
                line += " "
                line += prettyMetadata
            }
        } else {
            var all = metadata
            all.merge(provided) { _, new in new }
            all.merge(explicit) { _, new in new }
            if let error = event.error {
                all["error.message"] = "\(error)"
                all["error.type"] = "\(String(reflecting: type(of: error)))"
            }
            Self.append(all, to: &line)
        }
        line += " ["
        line += event.source
        line += "] "
        line += event.message.description
        line += "\n"
        sink.append(line, urgent: event.level >= .warning)
    }

    /// ` key=value` for each entry, keys sorted, as StreamLogHandler writes them.
    static func append(_ metadata: Logger.Metadata, to line: inout String) {
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) {
            line += " "
            line += key
            line += "="
            if case .string(let text) = value { line += text } else { line += value.description }
        }
    }

    static func prettify(_ metadata: Logger.Metadata) -> String? {
        guard !metadata.isEmpty else { return nil }
        var out = ""
        append(metadata, to: &out)
        return String(out.dropFirst())
    }
}

/// Where `BufferedLogHandler`s write: a descriptor, a buffer, and the queue that empties it.
public final class LogSink: Sendable {
    public static let standardError = LogSink(fd: STDERR_FILENO)

    /// Longest a buffered line waits before it is written.
    public let delay: DispatchTimeInterval
    /// Past this many buffered bytes, the logging thread writes them itself (the destination
    /// is slower than the logging: let it push back rather than grow the buffer).
    public let limit: Int
    private let fd: Int32
    private let queue = DispatchQueue(label: "pruned.log", qos: .utility)
    private let pending = Mutex((bytes: [UInt8](), scheduled: false))
    /// Held while writing, so that batches reach the descriptor in the order they were taken.
    private let writing = Mutex(())
    private let clock = Mutex((second: time_t(-1), text: ""))

    public init(fd: Int32, delay: DispatchTimeInterval = .milliseconds(100), limit: Int = 1 << 20) {
        self.fd = fd
        self.delay = delay
        self.limit = limit
    }

    func append(_ line: String, urgent: Bool) {
        let (schedule, full) = pending.withLock { p -> (Bool, Bool) in
            p.bytes.append(contentsOf: line.utf8)
            let schedule = !p.scheduled
            p.scheduled = true
            return (schedule, p.bytes.count >= limit)
        }
        if urgent || full {
            flush()
        } else if schedule {
            queue.asyncAfter(deadline: .now() + delay) { [self] in flush() }
        }
    }

    /// Writes everything buffered so far; returns when it is written.
    public func flush() {
        writing.withLock { _ in
            let bytes = pending.withLock { p -> [UInt8] in
                p.scheduled = false
                defer { p.bytes = [] }
                return p.bytes
            }
            var offset = 0
            bytes.withUnsafeBytes { raw in
                while offset < raw.count {
                    let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
                    if n > 0 {
                        offset += n
                    } else if n < 0 && errno == EINTR {
                        continue
                    } else {
                        return  // nowhere to report a failing log; drop the batch
                    }
                }
            }
        }
    }

    /// StreamLogHandler's timestamp (local time, `%Y-%m-%dT%H:%M:%S%z`), formatted once a second.
    func timestamp() -> String {
        var now = time(nil)
        return clock.withLock { c in
            if c.second == now { return c.text }
            var local = tm()
            var buffer = [UInt8](repeating: 0, count: 64)
            if localtime_r(&now, &local) != nil {
                let n = buffer.withUnsafeMutableBufferPointer { b in
                    b.withMemoryRebound(to: CChar.self) { strftime($0.baseAddress, $0.count, "%Y-%m-%dT%H:%M:%S%z", &local) }
                }
                c = (now, String(decoding: buffer[..<n], as: UTF8.self))
            } else {
                c = (now, "<unknown>")
            }
            return c.text
        }
    }
}
