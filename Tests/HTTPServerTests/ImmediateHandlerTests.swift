import Synchronization
import Testing
@testable import HTTPServer

/// Live-socket tests of the immediate handler: answered on the connection's queue, yet in
/// order with the task-run handler, and only for requests without content.
@Suite struct ImmediateHandlerTests {
    /// Answers `/quick` and `HEAD /quick`; everything else goes to `testRoutes()`.
    static func quick(seen: HandlerLog = HandlerLog()) -> HTTPServer.ImmediateHandler {
        return { request in
            seen.record("\(request.method) \(request.path)")
            guard request.path == "/quick" else { return nil }
            return .text("quick \(request.head.queryParameter("n") ?? "")")
        }
    }

    @Test func answersWhatItCanAndPassesOnTheRest() async throws {
        let seen = HandlerLog()
        try await withServer(immediate: Self.quick(seen: seen), handler: testRoutes()) { _, port in
            let client = try TestClient(port: port)
            try await client.send("GET /quick?n=1 HTTP/1.1\r\nHost: t\r\n\r\n")
            let response = try await client.readResponse()
            #expect(response.status == 200)
            #expect(response.text == "quick 1")
            #expect(response.headers["Content-Length"] == "7")
            #expect(response.headers["X-Request-Id"]?.count == 16)
            try await client.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try await client.readResponse().text == "hello")
            // A request with content never reaches it, even on a path it answers.
            try await client.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\nping")
            #expect(try await client.readResponse().text == "ping")
            #expect(seen.all == ["GET /quick", "GET /hello"])
        }
    }

    @Test func pipelinedMixIsAnsweredInOrder() async throws {
        try await withServer(immediate: Self.quick(), handler: testRoutes()) { _, port in
            let client = try TestClient(port: port)
            try await client.send(
                "GET /slow?ms=150 HTTP/1.1\r\nHost: t\r\n\r\n"
                    + "GET /quick?n=2 HTTP/1.1\r\nHost: t\r\n\r\n"
                    + "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\nping"
                    + "GET /quick?n=3 HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try await client.readResponse().text == "slow 150")
            #expect(try await client.readResponse().text == "quick 2")
            #expect(try await client.readResponse().text == "ping")
            #expect(try await client.readResponse().text == "quick 3")
        }
    }

    @Test func manyPipelinedRequestsInOneRead() async throws {
        // Each answer completes inside the parse loop; they must not nest one call per request.
        // Small enough to fit the socket buffers: the test client sends and reads on one queue.
        let count = 1000
        try await withServer(immediate: Self.quick(), handler: testRoutes()) { _, port in
            let client = try TestClient(port: port)
            let requests = (0..<count).map { "GET /quick?n=\($0) HTTP/1.1\r\nHost: t\r\n\r\n" }.joined()
            try await client.send(requests)
            for i in 0..<count {
                let response = try await client.readResponse()
                guard response.text == "quick \(i)" else {
                    Issue.record("response \(i): \(response.text)")
                    break
                }
            }
        }
    }

    @Test func headAndCloseFollowTheUsualRules() async throws {
        try await withServer(immediate: Self.quick(), handler: testRoutes()) { _, port in
            let client = try TestClient(port: port)
            try await client.send("HEAD /quick?n=4 HTTP/1.1\r\nHost: t\r\n\r\n")
            let head = try await client.readResponse(head: true)
            #expect(head.status == 200)
            #expect(head.body.isEmpty)
            try await client.send("GET /quick?n=5 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            let last = try await client.readResponse()
            #expect(last.text == "quick 5")
            #expect(last.headers["Connection"] == "close")
            #expect(await client.waitForClose())
        }
    }

    @Test func accessRecordsCoverImmediateAnswers() async throws {
        let records = Mutex<[HTTPAccessRecord]>([])
        try await withServer({ config in
            config.onRequestComplete = { record in records.withLock { $0.append(record) } }
        }, immediate: Self.quick(), handler: testRoutes()) { _, port in
            let client = try TestClient(port: port)
            try await client.send("GET /quick?n=6 HTTP/1.1\r\nHost: t\r\n\r\n")
            _ = try await client.readResponse()
            #expect(await eventually { records.withLock { $0.count } == 1 })
            let record = try #require(records.withLock { $0.first })
            #expect(record.status == 200 && record.completed)
            #expect(record.target == "/quick?n=6" && record.path == "/quick")
        }
    }
}
