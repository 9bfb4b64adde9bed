import Synchronization
import Testing
@testable import HTTPServer

@Suite struct HTTPRequestBodyTests {
    final class Signals: Sendable {
        let log = Mutex<[HTTPRequestBody.Signal]>([])
    }

    @Test func backpressurePausesAndResumesTheProducer() async throws {
        let signals = Signals()
        let body = HTTPRequestBody(declaredLength: nil, highWaterMark: 100) { s in signals.log.withLock { $0.append(s) } }
        #expect(!body.append([UInt8](repeating: 1, count: 60)))
        #expect(body.append([UInt8](repeating: 2, count: 60)))  // 120 ≥ 100: pause
        #expect(!body.wantsMore)
        #expect(try await body.next()?.count == 60)
        #expect(!body.wantsMore)  // 60 left, above the low-water mark of 25
        #expect(try await body.next()?.first == 2)
        #expect(body.wantsMore)
        body.finish(trailers: ["X": "y"])
        #expect(try await body.next() == nil)
        #expect(body.trailers["x"] == "y")
        #expect(body.isFullyRead)
        let seen = signals.log.withLock { $0 }
        #expect(seen.first == .firstRead)
        #expect(seen.contains(.resumeReading))
    }

    @Test func failureReachesAWaitingConsumer() async throws {
        let body = HTTPRequestBody(declaredLength: 10) { _ in }
        let read = Task { try await body.next() }
        try await Task.sleep(for: .milliseconds(20))
        body.fail(HTTPError.requestTimeout)
        await #expect(throws: HTTPError.requestTimeout) { _ = try await read.value }
        // Nothing appended after a failure is ever delivered.
        _ = body.append([1, 2, 3])
        await #expect(throws: HTTPError.self) { _ = try await body.next() }
    }

    @Test func collectEnforcesItsLimit() async throws {
        await #expect(throws: HTTPError.self) { _ = try await HTTPRequestBody(bytes: [1, 2, 3]).collect(upTo: 2) }
        #expect(try await HTTPRequestBody(bytes: [1, 2, 3]).collect(upTo: 3) == [1, 2, 3])
    }
}
