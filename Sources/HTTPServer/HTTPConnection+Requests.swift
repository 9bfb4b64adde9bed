import Dispatch
import Logging
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension HTTPConnection {
    /// Reads while the socket has input and the exchange wants it. The poller's registration is
    /// level-triggered, so stopping early (after a short read, or to let other connections
    /// have the queue) loses nothing: whatever is left, a reset included, is reported again.
    func readable() {
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
            // Yield the queue now and then to a fast sender; the poller comes back to it.
            reads += 1
            if reads > 16 { break }
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
            // A short read emptied the socket: asking again would only return EAGAIN.
            if n < scratch.count { break }
        }
        updateInterest()
    }

    /// Whether the connection wants bytes from the socket now.
    var wantsInput: Bool {
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
        // A response completed from inside the loop below (an immediate one) calls back here
        // through `finishResponse`; the loop itself carries on, so pipelined requests do not
        // nest one call per request.
        guard !processingInput else { return }
        processingInput = true
        defer { processingInput = false }
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
                if let response = exchange.immediateResponse {
                    exchange.immediateResponse = nil
                    beginResponse(response, for: exchange)
                }
            }
        }
    }

    /// A malformed or oversized request: answer with the error if nothing was answered yet.
    func requestFailed(_ error: HTTPError) {
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
    func peerGone() {
        if let exchange {
            exchange.body.fail(HTTPConnectionClosedError())
        }
        closeNow()
    }

    func discardInput() {
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

    func startExchange(_ parsed: HTTPRequestHead) {
        var head = parsed
        head.remoteAddress = remoteAddress
        head.requestID = context.requestIDs.next()
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
        if let immediate = context.immediate, head.contentLength == 0, let response = immediate(request) {
            exchange.immediateResponse = response
            return
        }
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

    func bodySignal(_ signal: HTTPRequestBody.Signal, exchange number: UInt64) {
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

    func handlerReturned(_ response: HTTPResponse, exchange number: UInt64, serverError: Bool) {
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
            head.requestID = context.requestIDs.next()
            exchange = Exchange(number: exchangeCount, head: head, body: HTTPRequestBody(bytes: []))
            self.exchange = exchange
        }
        exchange.stopReading = true
        exchange.closeAfterResponse = true
        beginResponse(.error(error), for: exchange)
        updateInterest()
    }
}
