import Dispatch
import Logging
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// One client connection: reads and parses requests, runs the handler for each, writes the
/// responses in order, and enforces the timeouts.
///
/// Concurrency: a nonisolated class whose mutable state is touched only on `queue`, a serial
/// queue that all its Dispatch sources and every hop back from handler tasks run on; that
/// confinement is what `@unchecked Sendable` stands for. The descriptor is closed only in the
/// cancel handler of the last of its sources.
final class HTTPConnection: @unchecked Sendable {
    let id: UInt64
    let fd: Int32
    let remoteAddress: String
    /// Accepted past the connection cap: answer 503 and close.
    let refuse: Bool
    let context: ServerContext
    let queue: DispatchQueue
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
    var readSource: DispatchSourceRead?
    var readSuspended = false
    var writeSource: DispatchSourceWrite?
    var writeResumed = false
    var timer: DispatchSourceTimer?
    var timerDeadline: DispatchTime?
    var liveFDSources = 0

    var parser: HTTPRequestParser
    var input: [UInt8] = []
    var inputStart = 0
    /// Read buffer, allocated on the first read: idle connections should cost little.
    var scratch: [UInt8] = []

    var exchange: Exchange?
    var exchangeCount: UInt64 = 0
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

    init(id: UInt64, fd: Int32, remoteAddress: String, refuse: Bool, context: ServerContext) {
        self.id = id
        self.fd = fd
        self.remoteAddress = remoteAddress
        self.refuse = refuse
        self.context = context
        self.queue = DispatchQueue(label: "pruned.http.connection", target: context.ioQueue)
        self.parser = HTTPRequestParser(limits: context.configuration.limits)
        var logger = context.configuration.logger
        logger[metadataKey: "remote"] = "\(remoteAddress)"
        self.logger = logger
    }

    var timeouts: HTTPServer.Timeouts { context.configuration.timeouts }

    func start() {
        queue.async { @Sendable [self] in
            let read = DispatchSource.makeReadSource(fileDescriptor: fd, queue: queue)
            read.setEventHandler { @Sendable [self] in readable() }
            read.setCancelHandler { @Sendable [self] in fdSourceCancelled() }
            readSource = read
            liveFDSources += 1
            let timer = DispatchSource.makeTimerSource(queue: queue)
            timer.setEventHandler { @Sendable [self] in timerFired() }
            self.timer = timer
            timer.resume()
            headerStartedAt = nil
            idleSince = .now()
            read.resume()
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

    // MARK: Reading

    /// Reads until the socket has nothing more (EAGAIN) or the exchange wants no more input.
    /// Reading to EAGAIN is not an optimisation: libdispatch's epoll backend can drop the
    /// notification of a reset that arrives while a handler runs, and only a read that
    /// reaches EAGAIN guarantees another event (or reports the reset itself).
    private func readable() {
        switch phase {
        case .closed:
            return
        case .lingering:
            discardInput()
            return
        case .open:
            break
        }
        if scratch.isEmpty { scratch = [UInt8](repeating: 0, count: 64 * 1024) }
        var reads = 0
        while case .open = phase, wantsInput {
            // Yield the queue now and then to a fast sender, and keep reading right after.
            reads += 1
            if reads > 16 {
                queue.async { @Sendable [self] in readable() }
                break
            }
            let n: Int?
            do {
                n = try scratch.withUnsafeMutableBytes { raw in
                    Result { () throws(SystemError) in
                        try nonBlockingSyscall("read") { Glibc.read(fd, raw.baseAddress, raw.count) }
                    }
                }.get()
            } catch {
                logger.debug("read failed", metadata: ["error": "\(error)"])
                peerGone()
                return
            }
            guard let n else { break }
            if n == 0 {
                peerGone()
                return
            }
            if inputStart == input.count {
                input.removeAll(keepingCapacity: true)
                inputStart = 0
            } else if inputStart > 64 * 1024 {
                input.removeFirst(inputStart)
                inputStart = 0
            }
            input.append(contentsOf: scratch[0..<n])
            if exchange == nil && headerStartedAt == nil { headerStartedAt = .now() }
            processInput()
        }
        updateInterest()
    }

    /// Whether the connection wants bytes from the socket now.
    private var wantsInput: Bool {
        switch phase {
        case .closed: return false
        case .lingering: return true
        case .open:
            guard let exchange else { return true }
            return !exchange.requestComplete && !exchange.stopReading && exchange.body.wantsMore
        }
    }

    /// Feeds buffered input to the parser for as long as the current exchange can take it.
    func processInput() {
        while case .open = phase {
            if let exchange {
                if exchange.requestComplete || exchange.stopReading || !exchange.body.wantsMore { return }
            }
            var slice = input[inputStart...]
            let event: HTTPRequestParser.Event?
            do {
                event = try parser.parse(&slice)
            } catch {
                inputStart = slice.startIndex
                requestFailed(error)
                return
            }
            inputStart = slice.startIndex
            guard let event else { return }
            switch event {
            case .head(let head):
                startExchange(head)
            case .body(let bytes):
                guard let exchange else { return }
                exchange.bytesReceived += Int64(bytes.count)
                lastBodyProgress = .now()
                _ = exchange.body.append(Array(bytes))
            case .end(let trailers):
                guard let exchange else { return }
                exchange.requestComplete = true
                exchange.body.finish(trailers: trailers)
            }
        }
    }

    /// A malformed or oversized request: answer with the error if nothing was answered yet.
    private func requestFailed(_ error: HTTPError) {
        logger.debug("bad request", metadata: ["error": "\(error)"])
        if let exchange {
            exchange.body.fail(error)
            guard !exchange.responseStarted else {
                exchange.stopReading = true
                exchange.closeAfterResponse = true
                return
            }
        }
        respondAsServer(error)
    }

    /// EOF or a reset from the peer.
    private func peerGone() {
        if let exchange {
            exchange.body.fail(HTTPConnectionClosedError())
        }
        closeNow()
    }

    private func discardInput() {
        if scratch.isEmpty { scratch = [UInt8](repeating: 0, count: 64 * 1024) }
        while true {
            let n = scratch.withUnsafeMutableBytes { raw in
                Result { () throws(SystemError) in
                    try nonBlockingSyscall("read") { Glibc.read(fd, raw.baseAddress, raw.count) }
                }
            }
            switch n {
            case .success(nil): return
            case .success(let count?) where count > 0: continue
            default:
                closeNow()
                return
            }
        }
    }

    // MARK: Exchanges

    private func startExchange(_ parsed: HTTPRequestHead) {
        var head = parsed
        head.remoteAddress = remoteAddress
        head.requestID = Self.makeRequestID()
        headerStartedAt = nil
        lastBodyProgress = .now()
        exchangeCount += 1
        let number = exchangeCount
        let body = HTTPRequestBody(declaredLength: head.contentLength) { [weak self] signal in
            guard let self else { return }
            self.queue.async { @Sendable in self.bodySignal(signal, exchange: number) }
        }
        let exchange = Exchange(number: number, head: head, body: body)
        exchange.continuePending = head.expectsContinue && head.contentLength != 0
        exchange.closeAfterResponse = draining
        self.exchange = exchange

        let request = HTTPRequest(head: head, body: body)
        let handler = context.handler
        var requestLogger = logger
        requestLogger[metadataKey: "request-id"] = "\(head.requestID)"
        let log = requestLogger
        exchange.task = Task { [self] in
            var serverError = false
            let response: HTTPResponse
            do {
                response = try await handler(request)
            } catch let error as any HTTPResponseError {
                response = .error(error)
            } catch is HTTPConnectionClosedError {
                // Only reachable once the exchange is over; the response will be dropped.
                response = .error(HTTPError.internalError)
                serverError = true
            } catch is CancellationError {
                response = .error(HTTPError.internalError)
                serverError = true
            } catch {
                log.error("handler failed", metadata: ["error": "\(error)", "method": "\(request.method)", "path": "\(request.path)"])
                response = .error(HTTPError.internalError)
                serverError = true
            }
            let closeAfter = serverError
            queue.async { @Sendable [self] in handlerReturned(response, exchange: number, serverError: closeAfter) }
        }
    }

    private func bodySignal(_ signal: HTTPRequestBody.Signal, exchange number: UInt64) {
        guard case .open = phase, let exchange, exchange.number == number else { return }
        switch signal {
        case .firstRead:
            // RFC 9110 §10.1.1: the handler wants the content, so invite the client to send it.
            guard exchange.continuePending, !exchange.responseStarted else { return }
            exchange.continuePending = false
            enqueue(Array("HTTP/1.1 100 Continue\r\n\r\n".utf8))
            pump()
        case .resumeReading:
            processInput()
        }
        updateInterest()
    }

    private func handlerReturned(_ response: HTTPResponse, exchange number: UInt64, serverError: Bool) {
        guard case .open = phase, let exchange, exchange.number == number, !exchange.responseStarted else { return }
        if serverError { exchange.closeAfterResponse = true }
        beginResponse(response, for: exchange)
        updateInterest()
    }

    /// A response the server makes itself (errors, 503): always `Connection: close`.
    func respondAsServer(_ error: HTTPError) {
        let exchange: Exchange
        if let current = self.exchange {
            guard !current.responseStarted else {
                closeNow()
                return
            }
            exchange = current
            exchange.task?.cancel()
        } else {
            exchangeCount += 1
            var head = HTTPRequestHead(method: HTTPMethod("-"), target: "-")
            head.remoteAddress = remoteAddress
            head.requestID = Self.makeRequestID()
            exchange = Exchange(number: exchangeCount, head: head, body: HTTPRequestBody(bytes: []))
            self.exchange = exchange
        }
        exchange.stopReading = true
        exchange.closeAfterResponse = true
        beginResponse(.error(error), for: exchange)
        updateInterest()
    }

    static func makeRequestID() -> String {
        let hex = String(UInt64.random(in: .min ... .max), radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    // MARK: Interest and timers

    /// Derives read interest and the timer deadline from the state; called after every change.
    func updateInterest() {
        guard let readSource else { return }
        if case .closed = phase { return }
        let wantRead = wantsInput
        if wantRead && readSuspended {
            readSuspended = false
            readSource.resume()
            // Whatever arrived while suspended may not raise a new event (see `readable`).
            queue.async { @Sendable [self] in readable() }
        } else if !wantRead && !readSuspended {
            readSuspended = true
            readSource.suspend()
        }
        let deadline = currentDeadline()?.at
        if deadline != timerDeadline {
            timerDeadline = deadline
            timer?.schedule(deadline: deadline ?? .distantFuture, leeway: .milliseconds(10))
        }
    }

    private func currentDeadline() -> (at: DispatchTime, kind: Deadline)? {
        switch phase {
        case .closed:
            return nil
        case .lingering(let until):
            return (until, .linger)
        case .open:
            if writeResumed { return (lastWriteProgress + timeouts.write.dispatchInterval, .write) }
            if let exchange {
                let waitingForBody = !exchange.requestComplete && !exchange.stopReading && !readSuspended
                    && !exchange.continuePending
                return waitingForBody ? (lastBodyProgress + timeouts.body.dispatchInterval, .body) : nil
            }
            if let headerStartedAt { return (headerStartedAt + timeouts.header.dispatchInterval, .header) }
            // A new connection must send its first request within the header timeout.
            let wait = exchangeCount == 0 ? timeouts.header : timeouts.idle
            return (idleSince + wait.dispatchInterval, .idle)
        }
    }

    private func timerFired() {
        timerDeadline = nil
        guard let (deadline, kind) = currentDeadline() else { return }
        guard DispatchTime.now() >= deadline else {
            updateInterest()
            return
        }
        switch kind {
        case .idle, .write, .linger:
            closeNow()
        case .header:
            respondAsServer(.requestTimeout)
        case .body:
            exchange?.body.fail(HTTPError.requestTimeout)
            respondAsServer(.requestTimeout)
        }
        updateInterest()
    }

    // MARK: Closing

    /// Ends the connection now: fails whatever waits on it and cancels its sources; the last
    /// cancel handler closes the descriptor.
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
        timer?.cancel()
        // A suspended source never delivers its cancellation: resume before cancelling.
        if let readSource {
            if readSuspended {
                readSuspended = false
                readSource.resume()
            }
            readSource.cancel()
        }
        if let writeSource {
            if !writeResumed {
                writeResumed = true
                writeSource.resume()
            }
            writeSource.cancel()
        }
    }

    /// After a response that ends the connection: shut our side and drain what the client
    /// still sends, so that unread input does not turn our FIN into a RST (RFC 9112 §9.6).
    func startLingering() {
        guard case .open = phase else { return }
        phase = .lingering(until: .now() + timeouts.linger.dispatchInterval)
        _ = shutdown(fd, Int32(SHUT_WR))
        updateInterest()
    }

    private func fdSourceCancelled() {
        liveFDSourcesDecrement()
    }

    func liveFDSourcesDecrement() {
        liveFDSources -= 1
        guard liveFDSources == 0 else { return }
        _ = Glibc.close(fd)
        context.connectionClosed(self)
    }

    func report(_ exchange: Exchange, completed: Bool) {
        guard let callback = context.configuration.onRequestComplete, !exchange.reported else { return }
        exchange.reported = true
        callback(
            HTTPAccessRecord(
                requestID: exchange.head.requestID, method: exchange.head.method, target: exchange.head.target,
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
