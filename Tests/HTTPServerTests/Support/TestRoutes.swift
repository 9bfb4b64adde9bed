import Glibc
import HTTPServer
import Synchronization

/// What the test handler saw, for tests that check the handler side of an exchange.
final class HandlerLog: Sendable {
    private let events = Mutex<[String]>([])
    func record(_ event: String) { events.withLock { $0.append(event) } }
    var all: [String] { events.withLock { $0 } }
}

/// A handler with one route per behaviour under test.
func testRoutes(log: HandlerLog = HandlerLog(), files: [String: String] = [:]) -> HTTPServer.Handler {
    return { request in
        let head = request.head
        switch head.path {
        case "/hello":
            return .text("hello")

        case "/slow":
            let ms = Int(head.queryParameter("ms") ?? "0") ?? 0
            try await Task.sleep(for: .milliseconds(ms))
            return .text("slow \(ms)")

        case "/echo":
            let body = try await request.body.collect(upTo: 1 << 24)
            var response = HTTPResponse.bytes(body, contentType: "application/octet-stream")
            for trailer in request.body.trailers { response.headers.add("X-Trailer-" + trailer.name, trailer.value) }
            return response

        case "/upload":
            // Streams to a file as the body arrives; on failure removes the partial file.
            let path = head.headers["X-Upload-Path"]!
            let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            precondition(fd >= 0)
            var total = 0
            do {
                for try await chunk in request.body {
                    chunk.withUnsafeBytes { _ = write(fd, $0.baseAddress, $0.count) }
                    total += chunk.count
                }
            } catch {
                close(fd)
                unlink(path)
                log.record("upload failed: \(error)")
                throw error
            }
            close(fd)
            log.record("upload complete: \(total)")
            return .text("\(total)")

        case "/reject":
            // Answers without reading the body: no 100 Continue may be sent.
            return .error(HTTPError(.unauthorized, code: "unauthorized", message: "no"))

        case "/method-only":
            guard head.method == .get || head.method == .head else {
                return .methodNotAllowed(head.method, allowed: [.get, .head])
            }
            return .text("ok")

        case "/stream":
            let count = Int(head.queryParameter("count") ?? "3") ?? 3
            let delay = Int(head.queryParameter("ms") ?? "0") ?? 0
            return HTTPResponse(status: .ok, headers: ["Content-Type": "text/event-stream"], body: .stream { writer in
                do {
                    for i in 0..<count {
                        try await writer.write("data: \(i)\n\n")
                        if delay > 0 { try await Task.sleep(for: .milliseconds(delay)) }
                    }
                } catch {
                    log.record("stream stopped: \(error)")
                    throw error
                }
            }).gzipped(for: head)

        case "/text-gzip":
            return HTTPResponse.text(String(repeating: "compress me please ", count: 200)).gzipped(for: head)

        case "/fail":
            struct Boom: Error {}
            throw Boom()

        default:
            if let path = files[head.path] {
                return try await .file(at: path, for: head, contentType: "application/octet-stream")
            }
            return .error(HTTPError.notFound())
        }
    }
}

/// A temporary file with `bytes`, removed by the caller.
func temporaryFile(_ bytes: [UInt8], name: String = "file") -> String {
    var template = Array("/tmp/httpserver-test-\(name)-XXXXXX".utf8CString)
    let fd = mkstemp(&template)
    precondition(fd >= 0)
    var written = 0
    while written < bytes.count {
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + written, $0.count - written) }
        precondition(n > 0)
        written += n
    }
    close(fd)
    return String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

func temporaryPath(_ name: String) -> String {
    "/tmp/httpserver-test-\(name)-\(UInt64.random(in: 0 ... .max))"
}

func fileExists(_ path: String) -> Bool { access(path, F_OK) == 0 }
