import Dispatch
import Glibc
import HTTPServer

struct TestClientError: Error, CustomStringConvertible {
    var description: String
}

struct TestResponse: Sendable {
    var status: Int
    var headers: HTTPHeaders
    var body: [UInt8]
    var trailers = HTTPHeaders()
    var text: String { String(decoding: body, as: UTF8.self) }
}

/// An HTTP/1.1 client on a raw socket, to say exactly what goes on the wire. Its socket is
/// blocking, so every call that waits runs on the client's own dispatch queue: blocking a
/// Swift concurrency thread instead would starve the server's handlers on a small machine.
final class TestClient: @unchecked Sendable {
    private let queue = DispatchQueue(label: "test.client")

    private func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try body() }) }
        }
    }

    func send(_ text: String) async throws { try await offPool { try self.sendNow(Array(text.utf8)) } }
    func send(_ bytes: [UInt8]) async throws { try await offPool { try self.sendNow(bytes) } }
    func readResponse(head: Bool = false) async throws -> TestResponse {
        try await offPool { try self.readResponseNow(head: head) }
    }
    func readSome(_ count: Int) async throws -> [UInt8] { try await offPool { try self.readSomeNow(count) } }
    func waitForClose() async -> Bool { (try? await offPool { self.waitForCloseNow() }) ?? false }

    let fd: Int32
    private var buffer: [UInt8] = []

    init(port: Int, receiveTimeout: Double = 5, receiveBuffer: Int32? = nil) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw TestClientError(description: "socket: \(errno)") }
        if let receiveBuffer {
            var size = receiveBuffer
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        setReceiveTimeout(receiveTimeout)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            let code = errno
            Glibc.close(fd)
            throw TestClientError(description: "connect: \(code)")
        }
    }

    private var closed = false

    deinit { if !closed { Glibc.close(fd) } }

    func setReceiveTimeout(_ seconds: Double) {
        var tv = timeval(tv_sec: Int(seconds), tv_usec: Int((seconds - seconds.rounded(.down)) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Close now; with `reset`, abort the connection (RST) the way a crashed client would.
    func close(reset: Bool = false) {
        if reset {
            var l = linger(l_onoff: 1, l_linger: 0)
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, socklen_t(MemoryLayout<linger>.size))
        }
        closed = true
        Glibc.close(fd)
    }

    private func sendNow(_ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw TestClientError(description: "send: \(errno)") }
            sent += n
        }
    }

    /// Reads more bytes into the buffer; false at EOF.
    private func fill() throws -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n == 0 { return false }
        guard n > 0 else { throw TestClientError(description: errno == EAGAIN ? "timed out" : "recv: \(errno)") }
        buffer += chunk[0..<n]
        return true
    }

    private func readLine() throws -> String {
        while true {
            if let lf = buffer.firstIndex(of: 10) {
                var line = Array(buffer[..<lf])
                buffer.removeFirst(lf + 1)
                if line.last == 13 { line.removeLast() }
                return String(decoding: line, as: UTF8.self)
            }
            guard try fill() else { throw TestClientError(description: "EOF in line") }
        }
    }

    private func readExactly(_ n: Int) throws -> [UInt8] {
        while buffer.count < n {
            guard try fill() else { throw TestClientError(description: "EOF after \(buffer.count) of \(n) bytes") }
        }
        let out = Array(buffer[..<n])
        buffer.removeFirst(n)
        return out
    }

    private func readFields() throws -> HTTPHeaders {
        var headers = HTTPHeaders()
        while true {
            let line = try readLine()
            if line.isEmpty { return headers }
            guard let colon = line.firstIndex(of: ":") else { throw TestClientError(description: "bad field \(line)") }
            headers.add(String(line[..<colon]), String(line[line.index(after: colon)...].drop { $0 == " " }))
        }
    }

    /// Reads one response (an interim 1xx one included). `head` marks the answer to a HEAD.
    private func readResponseNow(head: Bool) throws -> TestResponse {
        let statusLine = try readLine()
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]) else {
            throw TestClientError(description: "bad status line \(statusLine.debugDescription)")
        }
        let headers = try readFields()
        var response = TestResponse(status: status, headers: headers, body: [])
        if head || status < 200 || status == 204 || status == 304 { return response }
        if headers["Transfer-Encoding"]?.lowercased() == "chunked" {
            while true {
                let sizeLine = try readLine()
                guard let size = Int(sizeLine.split(separator: ";")[0], radix: 16) else {
                    throw TestClientError(description: "bad chunk size \(sizeLine)")
                }
                if size == 0 {
                    response.trailers = try readFields()
                    return response
                }
                response.body += try readExactly(size)
                guard try readExactly(2) == [13, 10] else { throw TestClientError(description: "chunk without CRLF") }
            }
        }
        if let length = headers["Content-Length"].flatMap({ Int($0) }) {
            response.body = try readExactly(length)
            return response
        }
        while try fill() {}
        response.body = buffer
        buffer.removeAll()
        return response
    }

    /// Reads up to `count` raw bytes (whatever arrives first).
    private func readSomeNow(_ count: Int) throws -> [UInt8] {
        if buffer.isEmpty { _ = try fill() }
        let n = min(count, buffer.count)
        let out = Array(buffer[..<n])
        buffer.removeFirst(n)
        return out
    }

    /// True when the server closes the connection (EOF or reset) within the receive timeout.
    private func waitForCloseNow() -> Bool {
        while true {
            do {
                if try !fill() { return true }
            } catch let error as TestClientError {
                return !error.description.contains("timed out")
            } catch {
                return true
            }
        }
    }
}
