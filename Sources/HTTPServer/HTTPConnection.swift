import Dispatch
import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// One client connection: reads and parses requests, runs the handler for each, writes the
/// responses in order, and enforces the timeouts.
///
/// Concurrency: a nonisolated class whose mutable state is touched only on `queue`, the serial
/// queue of its `ConnectionPoller`, which its socket events, the timeout sweep's calls and
/// every hop back from handler tasks run on; that confinement is what `@unchecked Sendable`
/// stands for. The descriptor is closed on that queue, right after leaving the epoll set.
final class HTTPConnection: @unchecked Sendable {
    let id: UInt64
    let fd: Int32
    let remoteAddress: String
    /// Accepted past the connection cap: answer 503 and close.
    let refuse: Bool
    let context: ServerContext
    let poller: ConnectionPoller
    var queue: DispatchQueue { poller.queue }
    var logger: Logger

    enum Phase {
        case open
        /// Response sent and write side shut: reading and dropping input until EOF or deadline.
        case lingering(until: DispatchTime)
        case closed
    }

    enum Deadline {
        case idle, header, body, write, linger
    }

    var phase = Phase.open
    /// In the poller's epoll set (from `start` until closed).
    var registered = false
    /// Read interest as registered: off while the connection does not want input.
    var readInterest = true
    /// Write interest as registered: on while the outbox waits for the socket.
    var writeInterest = false
    /// The deadline `updateInterest` derived last, in uptime nanoseconds (`.max`: none), for
    /// the server's timeout sweep to read from its own queue.
    let publishedDeadline = Atomic<UInt64>(.max)

    var parser: HTTPRequestParser
    var input: [UInt8] = []
    var inputStart = 0
    /// Read buffer, allocated on the first read: idle connections should cost little.
    var scratch: [UInt8] = []

    var exchange: Exchange?
    var exchangeCount: UInt64 = 0
    /// `processInput` is on the stack: a response finished inside it must not re-enter it.
    var processingInput = false
    var draining = false
    /// Start of the current request's header section (first byte seen, or the accept).
    var headerStartedAt: DispatchTime?
    var idleSince = DispatchTime.now()
    var lastBodyProgress = DispatchTime.now()
    var lastWriteProgress = DispatchTime.now()

    // Output (see HTTPConnection+Response.swift).
    var outbox: [UInt8] = []
    var outboxSent = 0
    var producer = Producer.none
    var cachedDate: (second: time_t, text: String) = (0, "")

    init(id: UInt64, fd: Int32, remoteAddress: String, refuse: Bool, context: ServerContext, poller: ConnectionPoller) {
        self.id = id
        self.fd = fd
        self.remoteAddress = remoteAddress
        self.refuse = refuse
        self.context = context
        self.poller = poller
        self.parser = HTTPRequestParser(limits: context.configuration.limits)
        var logger = context.configuration.logger
        logger[metadataKey: "remote"] = "\(remoteAddress)"
        self.logger = logger
    }

    var timeouts: HTTPServer.Timeouts { context.configuration.timeouts }

    func start() {
        queue.async { @Sendable [self] in
            do {
                try poller.add(self, read: true, write: false)
            } catch {
                logger.error("cannot watch accepted socket", metadata: ["error": "\(error)"])
                phase = .closed
                _ = Glibc.close(fd)
                context.connectionClosed(self)
                return
            }
            registered = true
            headerStartedAt = nil
            idleSince = .now()
            if refuse {
                respondAsServer(HTTPError.serviceUnavailable)
            }
            updateInterest()
        }
    }

    /// Server shutdown: finish the current exchange, then close; idle connections close now.
    func drain() {
        queue.async { @Sendable [self] in
            draining = true
            guard case .open = phase else { return }
            if let exchange {
                exchange.closeAfterResponse = true
            } else {
                closeNow()
            }
        }
    }

    func forceClose() {
        queue.async { @Sendable [self] in closeNow() }
    }

    // MARK: Closing

    /// Ends the connection now: fails whatever waits on it, leaves the epoll set and closes
    /// the descriptor.
    func closeNow() {
        if case .closed = phase { return }
        phase = .closed
        if let exchange {
            exchange.body.fail(HTTPConnectionClosedError())
            exchange.task?.cancel()
            exchange.streamTask?.cancel()
            report(exchange, completed: false)
            self.exchange = nil
        }
        if case .stream(let state) = producer {
            let waiters = state.waiters
            state.waiters.removeAll()
            state.finished = true
            for waiter in waiters { waiter.resume(throwing: HTTPConnectionClosedError()) }
        }
        producer = .none
        publishedDeadline.store(.max, ordering: .relaxed)
        guard registered else { return }
        registered = false
        poller.remove(self)
        _ = Glibc.close(fd)
        context.connectionClosed(self)
    }

    /// After a response that ends the connection: shut our side and drain what the client
    /// still sends, so that unread input does not turn our FIN into a RST (RFC 9112 §9.6).
    func startLingering() {
        guard case .open = phase else { return }
        phase = .lingering(until: .now() + timeouts.linger.dispatchInterval)
        _ = shutdown(fd, Int32(SHUT_WR))
        updateInterest()
    }

    /// Socket events from the poller. `failed`: a reset or error, or both directions shut
    /// (reported whatever the interest, so acted on even when no input is wanted).
    func ready(read: Bool, write: Bool, failed: Bool) {
        if case .closed = phase { return }
        if failed && !wantsInput {
            peerGone()
            return
        }
        if write && writeInterest, case .open = phase {
            pump()
            updateInterest()
        }
        if read { readable() }
    }

    func report(_ exchange: Exchange, completed: Bool) {
        guard let callback = context.configuration.onRequestComplete, !exchange.reported else { return }
        exchange.reported = true
        callback(
            HTTPAccessRecord(
                requestID: exchange.head.requestID, method: exchange.head.method, target: exchange.head.target, path: exchange.head.path,
                remoteAddress: remoteAddress, status: exchange.status, bytesReceived: exchange.bytesReceived,
                bytesSent: exchange.bytesSent, duration: ContinuousClock.now - exchange.startedAt, completed: completed))
    }
}

/// One request and its response, on the connection's queue.
final class Exchange {
    let number: UInt64
    let head: HTTPRequestHead
    let body: HTTPRequestBody
    let startedAt = ContinuousClock.now
    var task: Task<Void, Never>?
    /// The immediate handler's answer, sent once the parser has seen the end of the request.
    var immediateResponse: HTTPResponse?
    var streamTask: Task<Void, Never>?
    /// The parser has seen the end of the request.
    var requestComplete = false
    /// Input for this request is no longer wanted (answered early, or failed).
    var stopReading = false
    var continuePending = false
    var responseStarted = false
    var closeAfterResponse = false
    var reported = false
    var status = 0
    var bytesReceived: Int64 = 0
    var bytesSent: Int64 = 0

    init(number: UInt64, head: HTTPRequestHead, body: HTTPRequestBody) {
        self.number = number
        self.head = head
        self.body = body
    }
}
