import Testing
@testable import HTTPServer

/// Live-socket tests of the protocol: framing, persistence, interim responses, errors.
@Suite struct ServerProtocolTests {
    @Test func pipelinedRequestsAreAnsweredInOrder() async throws {
        try await withServer(handler: testRoutes()) { _, port in
            let client = try TestClient(port: port)
            // The first request is the slowest: its answer must still come first.
            try await client.send(
                "GET /slow?ms=150 HTTP/1.1\r\nHost: t\r\n\r\n"
                    + "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\nping"
                    + "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try await client.readResponse().text == "slow 150")
            #expect(try await client.readResponse().text == "ping")
            #expect(try await client.readResponse().text == "hello")
        }
    }

    @Test func keepAliveHTTP11() async throws {
        try await withServer(handler: testRoutes()) { _, port in
            let client = try TestClient(port: port)
            for _ in 0..<3 {
                try await client.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
                let response = try await client.readResponse()
                #expect(response.status == 200)
                #expect(response.headers["Connection"] == nil)
                #expect(response.headers["X-Request-Id"]?.count == 16)
                #expect(response.headers["Date"]?.hasSuffix(" GMT") == true)
            }
            try await client.send("GET /hello HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            let last = try await client.readResponse()
            #expect(last.headers["Connection"] == "close")
            #expect(await client.waitForClose())
        }
    }

    @Test func keepAliveHTTP10() async throws {
        try await withServer(handler: testRoutes()) { _, port in
            let plain = try TestClient(port: port)
            try await plain.send("GET /hello HTTP/1.0\r\n\r\n")
            let response = try await plain.readResponse()
            #expect(response.text == "hello")
            #expect(response.headers["Connection"] == "close")
            #expect(await plain.waitForClose())

            let persistent = try TestClient(port: port)
            for _ in 0..<2 {
                try await persistent.send("GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
                let r = try await persistent.readResponse()
                #expect(r.text == "hello")
                #expect(r.headers["Connection"] == "keep-alive")
            }
            // A streamed body has no length for HTTP/1.0: it ends with the connection.
            try await persistent.send("GET /stream?count=2 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            let streamed = try await persistent.readResponse()
            #expect(streamed.headers["Transfer-Encoding"] == nil)
            #expect(streamed.text == "data: 0\n\ndata: 1\n\n")
        }
    }

    @Test func chunkedRequestBodyWithExtensionsAndTrailers() async throws {
        try await withServer(handler: testRoutes()) { _, port in
            let client = try TestClient(port: port)
            try await client.send(
                "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + "4;ext=1\r\nWiki\r\n5 ; name=\"quoted value\"\r\npedia\r\n0;end\r\nX-Digest: abc\r\n\r\n")
            let response = try await client.readResponse()
            #expect(response.text == "Wikipedia")
            #expect(response.headers["X-Trailer-X-Digest"] == "abc")
            // The connection stays usable after a chunked body.
            try await client.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try await client.readResponse().text == "hello")
        }
    }

    @Test func expectContinueIsAnsweredAtOnce() async throws {
        try await withServer(handler: testRoutes()) { _, port in
            let client = try TestClient(port: port, receiveTimeout: 1)
            try await client.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
            let clock = ContinuousClock()
            let start = clock.now
            let interim = try await client.readResponse()
            #expect(interim.status == 100)
            // curl waits a second before sending the body anyway; the answer must come sooner.
            #expect(clock.now - start < .milliseconds(900))
            try await client.send("hello")
            let final = try await client.readResponse()
            #expect(final.status == 200)
            #expect(final.text == "hello")
        }
    }

    @Test func expectContinueIsNotSentWhenTheHandlerRejects() async throws {
        try await withServer(handler: testRoutes()) { _, port in
            let client = try TestClient(port: port, receiveTimeout: 2)
            try await client.send("POST /reject HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\nExpect: 100-continue\r\n\r\n")
            let response = try await client.readResponse()
            #expect(response.status == 401)
            #expect(response.headers["Connection"] == "close")
            #expect(await client.waitForClose())
        }
    }

    @Test func expectContinueWithABodyOverTheLimitGets413() async throws {
        try await withServer({ $0.limits.maxBodyBytes = 1000 }, handler: testRoutes()) { _, port in
            let client = try TestClient(port: port)
            try await client.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1001\r\nExpect: 100-continue\r\n\r\n")
            let response = try await client.readResponse()
            #expect(response.status == 413)
        }
    }

    @Test func headGetsHeadersWithoutBody() async throws {
        let path = temporaryFile(Array(repeating: 65, count: 5000))
        defer { unlinkFile(path) }
        try await withServer(handler: testRoutes(files: ["/file": path])) { _, port in
            let client = try TestClient(port: port)
            try await client.send("HEAD /hello HTTP/1.1\r\nHost: t\r\n\r\n")
            let head = try await client.readResponse(head: true)
            #expect(head.status == 200)
            #expect(head.headers["Content-Length"] == "5")
            try await client.send("HEAD /file HTTP/1.1\r\nHost: t\r\n\r\n")
            let file = try await client.readResponse(head: true)
            #expect(file.headers["Content-Length"] == "5000")
            #expect(file.headers["ETag"] != nil)
            // Had any body bytes been sent, this response would not parse.
            try await client.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try await client.readResponse().text == "hello")
        }
    }

    @Test func methodNotAllowedCarriesAllow() async throws {
        try await withServer(handler: testRoutes()) { _, port in
            let client = try TestClient(port: port)
            try await client.send("DELETE /method-only HTTP/1.1\r\nHost: t\r\n\r\n")
            let response = try await client.readResponse()
            #expect(response.status == 405)
            #expect(response.headers["Allow"] == "GET, HEAD")
            #expect(response.headers["Content-Type"] == "application/json")
            #expect(response.text.hasPrefix("{\"error\":{\"code\":\"method_not_allowed\""))
        }
    }

    static let rejected: [(request: String, status: Int, code: String)] = [
        ("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\nabc", 400, "bad_request"),
        ("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nContent-Length: 5\r\n\r\nabc", 400, "bad_request"),
        ("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 0x3\r\n\r\nabc", 400, "bad_request"),
        ("POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\n", 501, "not_implemented"),
        ("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 2000\r\n\r\n", 413, "content_too_large"),
        ("GET /" + String(repeating: "x", count: 9000) + " HTTP/1.1\r\nHost: t\r\n\r\n", 414, "uri_too_long"),
        ("GET / HTTP/1.1\r\nHost: t\r\nX: " + String(repeating: "x", count: 9000) + "\r\n\r\n", 431, "header_fields_too_large"),
        ("GET / HTTP/1.1\r\nHost: t\r\n" + (0..<101).map { "X-\($0): v\r\n" }.joined() + "\r\n", 431, "header_fields_too_large"),
        ("GET / HTTP/3.0\r\nHost: t\r\n\r\n", 505, "http_version_not_supported"),
    ]

    @Test(arguments: rejected)
    func protocolErrorsGetJSONAndClose(_ request: String, status: Int, code: String) async throws {
        try await withServer({ $0.limits.maxBodyBytes = 1000 }, handler: testRoutes()) { _, port in
            let client = try TestClient(port: port)
            try await client.send(request)
            let response = try await client.readResponse()
            #expect(response.status == status)
            #expect(response.headers["Connection"] == "close")
            #expect(response.headers["Content-Type"] == "application/json")
            #expect(response.text.contains("\"code\":\"\(code)\""))
            #expect(await client.waitForClose())
        }
    }

    @Test func chunkedBodyOverTheLimitGets413() async throws {
        try await withServer({ $0.limits.maxBodyBytes = 10 }, handler: testRoutes()) { _, port in
            let client = try TestClient(port: port)
            try await client.send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n01234567\r\n8\r\n01234567\r\n")
            let response = try await client.readResponse()
            #expect(response.status == 413)
            #expect(response.headers["Connection"] == "close")
        }
    }

    @Test func handlerErrorsBecome500() async throws {
        try await withServer(handler: testRoutes()) { _, port in
            let client = try TestClient(port: port)
            try await client.send("GET /fail HTTP/1.1\r\nHost: t\r\n\r\n")
            let response = try await client.readResponse()
            #expect(response.status == 500)
            #expect(response.text == "{\"error\":{\"code\":\"internal_error\",\"message\":\"the server failed to handle the request\"}}")
            #expect(response.headers["Connection"] == "close")
        }
    }

    @Test func accessRecordsReportEachRequest() async throws {
        let records = RecordSink()
        try await withServer({ $0.onRequestComplete = { records.add($0) } }, handler: testRoutes()) { _, port in
            let client = try TestClient(port: port)
            try await client.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc")
            let response = try await client.readResponse()
            #expect(await eventually { records.all.count == 1 })
            let record = try #require(records.all.first)
            #expect(record.status == 200)
            #expect(record.bytesReceived == 3)
            #expect(record.bytesSent > 3)
            #expect(record.completed)
            #expect(record.requestID == response.headers["X-Request-Id"])
            #expect(record.method == .post)
        }
    }
}

import Synchronization

final class RecordSink: Sendable {
    private let records = Mutex<[HTTPAccessRecord]>([])
    func add(_ r: HTTPAccessRecord) { records.withLock { $0.append(r) } }
    var all: [HTTPAccessRecord] { records.withLock { $0 } }
}

import Glibc

func unlinkFile(_ path: String) { unlink(path) }
