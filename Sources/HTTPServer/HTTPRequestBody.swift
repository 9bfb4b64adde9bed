import Synchronization

/// The content of a request, streamed as it arrives from the socket.
///
/// Iterate it (`for try await chunk in request.body`) or call `next()`; nothing is held in
/// memory beyond a bounded buffer: when the consumer falls behind, the server stops reading
/// the socket until it catches up, so a multi-hundred-megabyte upload can go to disk as it
/// arrives. The first read is what answers `Expect: 100-continue`: a handler that rejects a
/// request without reading its body never invites the client to send it.
///
/// Errors: `HTTPError` (413 when a chunked body exceeds the limit, 408 when the client stalls,
/// 400 on bad chunk framing) or `HTTPConnectionClosedError` when the client goes away.
public final class HTTPRequestBody: AsyncSequence, Sendable {
    public typealias Element = [UInt8]

    enum Signal: Sendable {
        /// The consumer asked for content for the first time.
        case firstRead
        /// The consumer drained the buffer below the low-water mark after the server paused.
        case resumeReading
    }

    struct State {
        var chunks: [[UInt8]] = []
        var nextChunk = 0
        var buffered = 0
        var finished = false
        var trailers = HTTPHeaders()
        var failure: (any Error)?
        var waiter: CheckedContinuation<[UInt8]?, any Error>?
        var readStarted = false
        var producerPaused = false

        mutating func pop() -> [UInt8]? {
            guard nextChunk < chunks.count else { return nil }
            let chunk = chunks[nextChunk]
            chunks[nextChunk] = []
            nextChunk += 1
            if nextChunk == chunks.count {
                chunks.removeAll(keepingCapacity: true)
                nextChunk = 0
            }
            buffered -= chunk.count
            return chunk
        }
    }

    /// The length the client declared, or nil for a chunked body.
    public let declaredLength: Int64?
    let highWaterMark: Int
    private let state: Mutex<State>
    private let signal: @Sendable (Signal) -> Void

    init(declaredLength: Int64?, highWaterMark: Int = 1 << 20, signal: @escaping @Sendable (Signal) -> Void) {
        self.declaredLength = declaredLength
        self.highWaterMark = highWaterMark
        self.signal = signal
        var initial = State()
        initial.finished = declaredLength == 0
        state = Mutex(initial)
    }

    /// A body that is already complete (for tests and for handlers calling each other).
    public convenience init(bytes: [UInt8]) {
        self.init(declaredLength: Int64(bytes.count), signal: { _ in })
        if !bytes.isEmpty {
            _ = append(bytes)
            finish(trailers: HTTPHeaders())
        }
    }

    /// The next piece of content, or nil at its end.
    public func next() async throws -> [UInt8]? {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<[UInt8]?, any Error>) in
                var signals: [Signal] = []
                let result: Result<[UInt8]?, any Error>? = state.withLock { s in
                    if !s.readStarted {
                        s.readStarted = true
                        signals.append(.firstRead)
                    }
                    if let chunk = s.pop() {
                        if s.producerPaused && s.buffered <= highWaterMark / 4 {
                            s.producerPaused = false
                            signals.append(.resumeReading)
                        }
                        return .success(chunk)
                    }
                    if let failure = s.failure { return .failure(failure) }
                    if s.finished { return .success(nil) }
                    if Task.isCancelled { return .failure(CancellationError()) }
                    if s.producerPaused {
                        s.producerPaused = false
                        signals.append(.resumeReading)
                    }
                    s.waiter = continuation
                    return nil
                }
                for s in signals { signal(s) }
                if let result { continuation.resume(with: result) }
            }
        } onCancel: {
            let waiter = state.withLock { s in
                defer { s.waiter = nil }
                return s.waiter
            }
            waiter?.resume(throwing: CancellationError())
        }
    }

    /// Reads the whole body into memory; 413 when it is larger than `maxBytes`.
    public func collect(upTo maxBytes: Int) async throws -> [UInt8] {
        if let declaredLength, declaredLength > Int64(maxBytes) { throw HTTPError.contentTooLarge(limit: Int64(maxBytes)) }
        var all: [UInt8] = []
        while let chunk = try await next() {
            guard all.count + chunk.count <= maxBytes else { throw HTTPError.contentTooLarge(limit: Int64(maxBytes)) }
            all += chunk
        }
        return all
    }

    /// Trailer fields of a chunked body (RFC 9112 §7.1.2); empty until the end has been read.
    public var trailers: HTTPHeaders { state.withLock { $0.trailers } }

    /// Everything the client sent has been handed to the consumer (or there was nothing).
    public var isFullyRead: Bool { state.withLock { $0.finished && $0.buffered == 0 } }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let body: HTTPRequestBody
        public mutating func next() async throws -> [UInt8]? { try await body.next() }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(body: self) }

    // MARK: Producer side (the connection)

    /// Adds content; true when the buffer is above the high-water mark and the producer
    /// should stop reading until `.resumeReading` is signalled.
    func append(_ bytes: [UInt8]) -> Bool {
        let (waiter, pause): (CheckedContinuation<[UInt8]?, any Error>?, Bool) = state.withLock { s in
            guard s.failure == nil, !s.finished else { return (nil, false) }
            if let waiter = s.waiter {
                s.waiter = nil
                return (waiter, false)
            }
            s.chunks.append(bytes)
            s.buffered += bytes.count
            if s.buffered >= highWaterMark { s.producerPaused = true }
            return (nil, s.producerPaused)
        }
        waiter?.resume(returning: bytes)
        return pause
    }

    func finish(trailers: HTTPHeaders) {
        let waiter = state.withLock { s -> CheckedContinuation<[UInt8]?, any Error>? in
            s.finished = true
            s.trailers = trailers
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume(returning: nil)
    }

    /// Ends the body with an error, unless it already ended; buffered content is dropped.
    func fail(_ error: any Error) {
        let waiter = state.withLock { s -> CheckedContinuation<[UInt8]?, any Error>? in
            // A body that arrived whole stays readable even if the connection then fails.
            guard !s.finished, s.failure == nil else { return nil }
            s.failure = error
            s.chunks.removeAll()
            s.nextChunk = 0
            s.buffered = 0
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume(throwing: error)
    }

    var wantsMore: Bool { state.withLock { !$0.producerPaused } }
}
