import Glibc
import Logging
import Testing
@testable import HTTPServer

/// Live-socket tests of clients that misbehave: slow, silent, vanishing, too many.
@Suite struct ServerResilienceTests {
    @Test func slowHeadersGet408() async throws {
        try await withServer({ $0.timeouts.header = .milliseconds(300) }, handler: testRoutes()) { _, port in
            let clock = ContinuousClock()
            let start = clock.now
            let client = try TestClient(port: port)
            try await client.send("GET /hello HTTP/1.1\r\nHost: t\r\n")  // never finishes the head
            let response = try await client.readResponse()
            #expect(response.status == 408)
            #expect(response.headers["Connection"] == "close")
            #expect(response.text.contains("\"code\":\"request_timeout\""))
            #expect(clock.now - start >= .milliseconds(280))
            #expect(await client.waitForClose())
        }
    }

    @Test func trickledHeadersStillTimeOut() async throws {
        // Sending a byte now and then does not extend the header deadline.
        try await withServer({ $0.timeouts.header = .milliseconds(400) }, handler: testRoutes()) { _, port in
            let client = try TestClient(port: port)
            let clock = ContinuousClock()
            let start = clock.now
            for byte in "GET /hello HTTP/1.1\r\nX-A: b".utf8 {
                guard clock.now - start < .milliseconds(700) else { break }
                try? await client.send([byte])
                try await Task.sleep(for: .milliseconds(40))
            }
            let response = try await client.readResponse()
            #expect(response.status == 408)
        }
    }

    @Test func stalledBodyGets408() async throws {
        try await withServer({ $0.timeouts.body = .milliseconds(300) }, handler: testRoutes()) { _, port in
            let client = try TestClient(port: port)
            try await client.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nonly some")
            let response = try await client.readResponse()
            #expect(response.status == 408)
            #expect(response.headers["Connection"] == "close")
        }
    }

    @Test func idleKeepAliveConnectionIsClosed() async throws {
        try await withServer({ $0.timeouts.idle = .milliseconds(200) }, handler: testRoutes()) { _, port in
            let client = try TestClient(port: port)
            try await client.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try await client.readResponse().status == 200)
            let sockets = ProcFS.serverSocketInodes(port: port)
            #expect(sockets.count == 1)
            #expect(await client.waitForClose())
            #expect(await eventually { ProcFS.openSocketInodes().isDisjoint(with: sockets) })
        }
    }

    @Test func silentNewConnectionIsClosedAfterTheHeaderTimeout() async throws {
        try await withServer({ $0.timeouts.header = .milliseconds(200) }, handler: testRoutes()) { server, port in
            let client = try TestClient(port: port)
            #expect(await client.waitForClose())
            #expect(await eventually { server.connectionCount == 0 })
        }
    }

    @Test func disconnectMidUploadLeavesNoDescriptorOrFile() async throws {
        let log = HandlerLog()
        let path = temporaryPath("upload")
        try await withServer(handler: testRoutes(log: log)) { server, port in
            let client = try TestClient(port: port)
            try await client.send("POST /upload HTTP/1.1\r\nHost: t\r\nX-Upload-Path: \(path)\r\nContent-Length: 50000000\r\n\r\n")
            try await client.send([UInt8](repeating: 7, count: 1_000_000))
            #expect(await eventually { fileExists(path) })
            let sockets = ProcFS.serverSocketInodes(port: port)
            #expect(sockets.count == 1)
            client.close(reset: true)
            #expect(await eventually { log.all.contains { $0.hasPrefix("upload failed") } })
            #expect(await eventually { ProcFS.openSocketInodes().isDisjoint(with: sockets) })
            #expect(await eventually { server.connectionCount == 0 })
            #expect(!fileExists(path))
            #expect(!ProcFS.openDescriptorTargets().contains(path))
        }
    }

    @Test func disconnectMidDownloadLeavesNoDescriptor() async throws {
        let path = temporaryFile([UInt8](repeating: 1, count: 8 << 20), name: "download")
        defer { unlinkFile(path) }
        try await withServer(handler: testRoutes(files: ["/big": path])) { server, port in
            let client = try TestClient(port: port, receiveBuffer: 4096)
            try await client.send("GET /big HTTP/1.1\r\nHost: t\r\n\r\n")
            _ = try await client.readSome(1000)
            #expect(ProcFS.openDescriptorTargets().contains(path))  // the server is mid-send
            let sockets = ProcFS.serverSocketInodes(port: port)
            #expect(sockets.count == 1)
            client.close(reset: true)
            #expect(await eventually { ProcFS.openSocketInodes().isDisjoint(with: sockets) })
            #expect(await eventually { !ProcFS.openDescriptorTargets().contains(path) })
            #expect(server.connectionCount == 0)
        }
    }

    @Test func disconnectMidStreamStopsTheProducer() async throws {
        let log = HandlerLog()
        try await withServer(handler: testRoutes(log: log)) { _, port in
            let client = try TestClient(port: port)
            try await client.send("GET /stream?count=100000&ms=5 HTTP/1.1\r\nHost: t\r\n\r\n")
            _ = try await client.readSome(100)
            let sockets = ProcFS.serverSocketInodes(port: port)
            #expect(sockets.count == 1)
            client.close(reset: true)
            #expect(await eventually { log.all.contains { $0.hasPrefix("stream stopped") } })
            #expect(await eventually { ProcFS.openSocketInodes().isDisjoint(with: sockets) })
        }
    }

    @Test func slowClientsDoNotHoldUpOthers() async throws {
        let path = temporaryFile([UInt8](repeating: 2, count: 16 << 20), name: "slow")
        defer { unlinkFile(path) }
        try await withServer(handler: testRoutes(files: ["/big": path])) { _, port in
            // One client trickles a head, one never reads a big download, one waits on a body.
            let slowloris = try TestClient(port: port)
            try await slowloris.send("GET /hello HTTP/1.1\r\nHo")
            let stalledReader = try TestClient(port: port, receiveBuffer: 4096)
            try await stalledReader.send("GET /big HTTP/1.1\r\nHost: t\r\n\r\n")
            let stalledUpload = try TestClient(port: port)
            try await stalledUpload.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\nabc")
            try await Task.sleep(for: .milliseconds(50))

            let clock = ContinuousClock()
            for _ in 0..<5 {
                let start = clock.now
                let client = try TestClient(port: port)
                try await client.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
                #expect(try await client.readResponse().text == "hello")
                // The slow ones hold their connections for seconds; this one is not queued behind them.
                #expect(clock.now - start < .seconds(2))
            }
            _ = slowloris
            _ = stalledReader
            _ = stalledUpload
        }
    }

    @Test func connectionsPastTheCapGet503() async throws {
        try await withServer({ $0.maxConnections = 2 }, handler: testRoutes()) { server, port in
            let first = try TestClient(port: port)
            let second = try TestClient(port: port)
            for client in [first, second] {
                try await client.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
                #expect(try await client.readResponse().status == 200)
            }
            let third = try TestClient(port: port)
            try await third.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
            let refused = try await third.readResponse()
            #expect(refused.status == 503)
            #expect(refused.headers["Connection"] == "close")
            #expect(refused.text.contains("\"code\":\"service_unavailable\""))
            #expect(await third.waitForClose())

            first.close()
            #expect(await eventually { server.connectionCount == 1 })
            let fourth = try TestClient(port: port)
            try await fourth.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try await fourth.readResponse().status == 200)
        }
    }

    @Test func largeUploadStreamsToDisk() async throws {
        let log = HandlerLog()
        let path = temporaryPath("large")
        defer { unlinkFile(path) }
        try await withServer(handler: testRoutes(log: log)) { _, port in
            let client = try TestClient(port: port)
            let size = 24 << 20
            try await client.send("POST /upload HTTP/1.1\r\nHost: t\r\nX-Upload-Path: \(path)\r\nContent-Length: \(size)\r\n\r\n")
            let block = [UInt8](repeating: 9, count: 1 << 20)
            for _ in 0..<(size >> 20) { try await client.send(block) }
            let response = try await client.readResponse()
            #expect(response.text == "\(size)")
            var info = stat()
            #expect(stat(path, &info) == 0 && info.st_size == size)
        }
    }

    @Test func shutdownFinishesInFlightRequests() async throws {
        var config = HTTPServer.Configuration()
        config.host = "127.0.0.1"
        config.port = 0
        config.logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
        let server = HTTPServer(configuration: config, handler: testRoutes())
        let port = try server.start()
        let busy = try TestClient(port: port)
        let idle = try TestClient(port: port)
        try await idle.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(try await idle.readResponse().status == 200)
        try await busy.send("GET /slow?ms=300 HTTP/1.1\r\nHost: t\r\n\r\n")
        try await Task.sleep(for: .milliseconds(50))

        let sockets = ProcFS.serverSocketInodes(port: port)
        #expect(sockets.count == 2)
        let stopping = Task { await server.shutdown(gracePeriod: .seconds(3)) }
        let response = try await busy.readResponse()
        #expect(response.text == "slow 300")
        #expect(response.headers["Connection"] == "close")
        #expect(await idle.waitForClose())
        await stopping.value
        #expect(server.connectionCount == 0)
        #expect(ProcFS.openSocketInodes().isDisjoint(with: sockets))
        #expect(throws: TestClientError.self) { _ = try TestClient(port: port) }
    }

    @Test func shutdownClosesWhatOutlivesTheGracePeriod() async throws {
        var config = HTTPServer.Configuration()
        config.host = "127.0.0.1"
        config.port = 0
        config.logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
        let server = HTTPServer(configuration: config, handler: testRoutes())
        let port = try server.start()
        let client = try TestClient(port: port)
        try await client.send("GET /slow?ms=5000 HTTP/1.1\r\nHost: t\r\n\r\n")
        try await Task.sleep(for: .milliseconds(50))
        let sockets = ProcFS.serverSocketInodes(port: port)
        #expect(sockets.count == 1)
        let clock = ContinuousClock()
        let start = clock.now
        await server.shutdown(gracePeriod: .milliseconds(200))
        #expect(clock.now - start < .seconds(2))
        #expect(await client.waitForClose())
        #expect(ProcFS.openSocketInodes().isDisjoint(with: sockets))
    }
}
