import Dispatch
import Logging
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension HTTPConnection {
    /// What remains to be sent after the bytes already in the outbox.
    enum Producer {
        case none
        /// Identity file content, sent with sendfile(2).
        case file(HTTPFile, offset: Int64, remaining: Int64)
        /// File content deflated on the way out.
        case gzipFile(HTTPFile, offset: Int64, remaining: Int64, GzipDeflater, chunked: Bool)
        case stream(StreamState)
    }

    final class StreamState {
        let gzip: GzipDeflater?
        let chunked: Bool
        var finished = false
        var waiters: [CheckedContinuation<Void, any Error>] = []

        init(gzip: GzipDeflater?, chunked: Bool) {
            self.gzip = gzip
            self.chunked = chunked
        }
    }

    enum Framing: Equatable {
        case none
        case length(Int64)
        case chunked
        /// HTTP/1.0 and unknown length: the end of the content is the end of the connection.
        case untilClose
    }

    /// Writes the head of `response` and sets up its body (RFC 9112 §6, RFC 9110 §6.4.1).
    func beginResponse(_ response: HTTPResponse, for exchange: Exchange) {
        exchange.responseStarted = true
        exchange.continuePending = false
        let request = exchange.head
        let isHEAD = request.method == .head
        var headers = response.headers
        let status = response.status

        if !exchange.requestComplete {
            // The rest of the request will not be read, so the connection cannot carry another.
            exchange.closeAfterResponse = true
            if case .stream = response.body {} else {
                exchange.stopReading = true
                exchange.body.fail(HTTPConnectionClosedError())
            }
        }
        if !request.keepAlive || headers.containsToken("close", in: "Connection") {
            exchange.closeAfterResponse = true
        }

        let framing: Framing
        if !status.allowsContent {
            framing = .none
        } else if let length = response.knownContentLength {
            framing = .length(length)
        } else if request.version.minor >= 1 {
            framing = .chunked
        } else {
            framing = .untilClose
        }
        // A HEAD answered with an empty body may state the length a GET would have had.
        let headLength = isHEAD ? headers["Content-Length"] : nil
        headers.remove("Content-Length")
        headers.remove("Transfer-Encoding")
        headers.remove("Connection")
        switch framing {
        case .none:
            break
        case .length(let n):
            if case .empty = response.body, let headLength { headers["Content-Length"] = headLength } else {
                headers["Content-Length"] = String(n)
            }
        case .chunked:
            if !isHEAD { headers["Transfer-Encoding"] = "chunked" }
        case .untilClose:
            if !isHEAD { exchange.closeAfterResponse = true }
        }
        if exchange.closeAfterResponse {
            headers["Connection"] = "close"
        } else if request.version.minor == 0 {
            headers["Connection"] = "keep-alive"
        }
        if !headers.contains("Date") { headers["Date"] = httpDate() }
        if !headers.contains("X-Request-Id") { headers["X-Request-Id"] = request.requestID }

        exchange.status = status.code
        enqueue(serializeHead(status: status, headers: headers))

        producer = .none
        if !isHEAD && framing != .none {
            switch response.body {
            case .empty:
                break
            case .bytes(let bytes):
                enqueue(bytes)
            case .file(let file, let range):
                let offset = range?.lowerBound ?? 0
                let length = range.map { $0.upperBound - $0.lowerBound + 1 } ?? file.size
                if response.gzipWhileSending {
                    producer = .gzipFile(file, offset: offset, remaining: length, GzipDeflater(), chunked: framing == .chunked)
                } else {
                    producer = .file(file, offset: offset, remaining: length)
                }
            case .stream(let produce):
                let state = StreamState(gzip: response.gzipWhileSending ? GzipDeflater() : nil, chunked: framing == .chunked)
                producer = .stream(state)
                startStream(produce, exchange: exchange.number)
            }
        }
        pump()
    }

    private func startStream(_ produce: @escaping @Sendable (HTTPBodyWriter) async throws -> Void, exchange number: UInt64) {
        let writer = HTTPBodyWriter { [weak self] bytes, continuation in
            guard let self else {
                continuation.resume(throwing: HTTPConnectionClosedError())
                return
            }
            self.queue.async { @Sendable in self.streamWrite(bytes, continuation, exchange: number) }
        }
        exchange?.streamTask = Task { [self] in
            var failure: (any Error)?
            do {
                try await produce(writer)
            } catch {
                failure = error
            }
            let outcome = failure
            queue.async { @Sendable [self] in streamFinished(exchange: number, failure: outcome) }
        }
    }

    private func streamWrite(_ bytes: [UInt8], _ continuation: CheckedContinuation<Void, any Error>, exchange number: UInt64) {
        guard case .open = phase, exchange?.number == number, case .stream(let state) = producer, !state.finished else {
            continuation.resume(throwing: HTTPConnectionClosedError())
            return
        }
        let data = state.gzip?.compress(bytes, flush: .sync) ?? bytes
        enqueue(state.chunked ? chunk(data) : data)
        state.waiters.append(continuation)
        pump()
        updateInterest()
    }

    private func streamFinished(exchange number: UInt64, failure: (any Error)?) {
        guard case .open = phase, exchange?.number == number, case .stream(let state) = producer else { return }
        if let failure {
            // The head is out; the only way left to say "incomplete" is to not end the body.
            if !(failure is HTTPConnectionClosedError) {
                logger.error("response stream failed", metadata: ["error": "\(failure)"])
            }
            closeNow()
            return
        }
        state.finished = true
        pump()
        updateInterest()
    }

    /// Moves the response forward as far as the socket allows, then waits for writability.
    func pump() {
        while case .open = phase {
            guard flush() else { return }
            switch producer {
            case .none:
                if let exchange, exchange.responseStarted { finishResponse(exchange) }
                return

            case .file(let file, let offset, let remaining):
                if remaining == 0 {
                    producer = .none
                    continue
                }
                var position = off_t(offset)
                let result = Result { () throws(SystemError) in
                    try nonBlockingSyscall("sendfile") {
                        sendfile(fd, file.descriptor, &position, Int(min(remaining, 1 << 20)))
                    }
                }
                switch result {
                case .success(nil):
                    armWrite()
                    return
                case .success(let n?) where n > 0:
                    exchange?.bytesSent += Int64(n)
                    lastWriteProgress = .now()
                    producer = .file(file, offset: offset + Int64(n), remaining: remaining - Int64(n))
                case .success:
                    logger.error("file shrank while being sent", metadata: ["path": "\(file.path)"])
                    closeNow()
                case .failure(let error):
                    logger.debug("sendfile failed", metadata: ["error": "\(error)"])
                    closeNow()
                }

            case .gzipFile(let file, let offset, let remaining, let deflater, let chunked):
                let count = Int(min(remaining, 64 * 1024))
                let plain: [UInt8]
                do {
                    plain = try file.read(at: offset, count: count)
                } catch {
                    logger.error("file read failed", metadata: ["path": "\(file.path)", "error": "\(error)"])
                    closeNow()
                    return
                }
                if plain.count < count {
                    logger.error("file shrank while being sent", metadata: ["path": "\(file.path)"])
                    closeNow()
                    return
                }
                let last = Int64(count) == remaining
                let compressed = deflater.compress(plain, flush: last ? .finish : .none)
                if !compressed.isEmpty { enqueue(chunked ? chunk(compressed) : compressed) }
                if last {
                    if chunked { enqueue(Self.lastChunk) }
                    producer = .none
                } else {
                    producer = .gzipFile(file, offset: offset + Int64(count), remaining: remaining - Int64(count), deflater, chunked: chunked)
                }

            case .stream(let state):
                let waiters = state.waiters
                state.waiters.removeAll()
                for waiter in waiters { waiter.resume() }
                guard state.finished else { return }
                if let gzip = state.gzip {
                    let tail = gzip.compress([], flush: .finish)
                    if !tail.isEmpty { enqueue(state.chunked ? chunk(tail) : tail) }
                }
                if state.chunked { enqueue(Self.lastChunk) }
                producer = .none
            }
        }
    }

    private func finishResponse(_ exchange: Exchange) {
        report(exchange, completed: true)
        self.exchange = nil
        if exchange.closeAfterResponse || draining {
            startLingering()
            return
        }
        idleSince = .now()
        headerStartedAt = inputStart < input.count ? .now() : nil
        processInput()
        updateInterest()
    }

    func enqueue(_ bytes: [UInt8]) {
        if outbox.isEmpty {
            outbox = bytes
        } else {
            outbox.append(contentsOf: bytes)
        }
    }

    /// Sends what the outbox holds; true once it is empty, false when the socket is full
    /// (the write source is then armed) or the connection failed.
    private func flush() -> Bool {
        while outboxSent < outbox.count {
            let sent = outboxSent
            let result = outbox.withUnsafeBytes { raw in
                Result { () throws(SystemError) in
                    try nonBlockingSyscall("send") {
                        send(fd, raw.baseAddress! + sent, raw.count - sent, Int32(MSG_NOSIGNAL))
                    }
                }
            }
            switch result {
            case .success(let n?):
                outboxSent += n
                exchange?.bytesSent += Int64(n)
                lastWriteProgress = .now()
            case .success(nil):
                armWrite()
                return false
            case .failure(let error):
                logger.debug("send failed", metadata: ["error": "\(error)"])
                closeNow()
                return false
            }
        }
        if outbox.capacity > 1 << 20 { outbox = [] } else { outbox.removeAll(keepingCapacity: true) }
        outboxSent = 0
        if writeInterest {
            writeInterest = false
            poller.modify(self, read: readInterest, write: false)
        }
        return true
    }

    private func armWrite() {
        guard !writeInterest, registered else { return }
        writeInterest = true
        lastWriteProgress = .now()
        poller.modify(self, read: readInterest, write: true)
    }

    static let lastChunk: [UInt8] = Array("0\r\n\r\n".utf8)

    /// One chunk of a chunked body (RFC 9112 §7.1).
    func chunk(_ data: [UInt8]) -> [UInt8] {
        var out = Array(String(data.count, radix: 16).utf8)
        out.reserveCapacity(out.count + data.count + 4)
        out += [.cr, .lf]
        out += data
        out += [.cr, .lf]
        return out
    }

    /// status-line and field lines (RFC 9112 §4, §5). Fields that would break framing
    /// (a CR or LF smuggled into a value) are dropped rather than sent.
    func serializeHead(status: HTTPStatus, headers: HTTPHeaders) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        out += Array("HTTP/1.1 \(status.code) \(status.reason)\r\n".utf8)
        for field in headers {
            let name = field.name.utf8, value = field.value.utf8
            guard !name.isEmpty, name.allSatisfy(\.isTokenChar), value.allSatisfy(\.isFieldValueChar) else {
                logger.warning("dropping invalid response header field", metadata: ["name": "\(field.name)"])
                continue
            }
            out += name
            out += [UInt8(ascii: ":"), .sp]
            out += value
            out += [.cr, .lf]
        }
        out += [.cr, .lf]
        return out
    }

    /// IMF-fixdate (RFC 9110 §5.6.7), recomputed at most once a second.
    func httpDate() -> String {
        var now = time(nil)
        if cachedDate.second == now { return cachedDate.text }
        var t = tm()
        gmtime_r(&now, &t)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let text = "\(days[Int(t.tm_wday)]), \(two(t.tm_mday)) \(months[Int(t.tm_mon)]) \(t.tm_year + 1900) "
            + "\(two(t.tm_hour)):\(two(t.tm_min)):\(two(t.tm_sec)) GMT"
        cachedDate = (now, text)
        return text
    }
}
