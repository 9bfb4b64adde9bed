import Foundation
import PruneKit
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Real processes: the `pruned` binary is killed with SIGKILL mid-job and mid-upload, then
/// started again on the same data dir. Nothing accepted may be lost, nothing half-received kept.
@Suite(.serialized) struct CrashRecoveryTests {
    /// The `pruned` executable built next to this test bundle.
    static var binary: URL {
        let here = Bundle.main.bundleURL.deletingLastPathComponent()
        for candidate in [here, here.deletingLastPathComponent()] {
            let url = candidate.appendingPathComponent("pruned")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(".build/debug/pruned")
    }

    final class Server {
        let process = Process()
        let port: Int

        init(dataDir: URL, environment: [String: String] = [:]) throws {
            process.executableURL = CrashRecoveryTests.binary
            process.arguments = ["serve", "--host", "127.0.0.1", "--port", "0", "--data-dir", dataDir.path, "--workers", "1"]
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
            let err = Pipe()
            process.standardError = err
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            // The log line "listening ... port=NNNN" tells the port the kernel chose.
            var log = ""
            let deadline = Date().addingTimeInterval(20)
            while Date() < deadline {
                let chunk = err.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                log += String(decoding: chunk, as: UTF8.self)
                if let r = log.range(of: #"port=(\d+)"#, options: .regularExpression) {
                    port = Int(log[r].dropFirst(5))!
                    // Keep draining stderr so the server never blocks on a full pipe.
                    let handle = err.fileHandleForReading
                    Thread.detachNewThread { while !handle.availableData.isEmpty {} }
                    return
                }
            }
            process.terminate()
            throw CancellationError()
        }

        func kill9() {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }

        func terminate() -> Int32 {
            process.terminate()
            process.waitUntilExit()
            return process.terminationStatus
        }
    }

    static func curl(_ args: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        p.arguments = ["-s", "--max-time", "20"] + args
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    static func status(_ port: Int, _ id: String) throws -> String? {
        let text = try curl(["http://127.0.0.1:\(port)/jobs/\(id)"])
        return (try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])?["status"] as? String
    }

    static func submit(_ port: Int, model: URL) throws -> String {
        let text = try curl(["-F", "model=@\(model.path)", "-F", "config={\"rate\":0.5}", "http://127.0.0.1:\(port)/jobs"])
        let json = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
        return try #require(json?["id"] as? String)
    }

    static func waitFor(_ port: Int, _ id: String, _ wanted: Set<String>, seconds: Double = 30) throws -> String? {
        let deadline = Date().addingTimeInterval(seconds)
        var last: String?
        while Date() < deadline {
            last = try status(port, id)
            if let last, wanted.contains(last) { return last }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return last
    }

    /// Runs blocking work (process waits, sleeps) on a thread of its own: on the two threads of
    /// Swift's cooperative pool it would starve the tests that run beside it.
    static func offPool(_ body: @escaping @Sendable () throws -> Void) async throws {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
            Thread.detachNewThread {
                do { try body(); c.resume() } catch { c.resume(throwing: error) }
            }
        }
    }

    @Test func killedMidJobAndMidUploadLosesNothingAccepted() async throws {
        try await Self.offPool { try Self.killAndRestart() }
    }

    static func killAndRestart() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/curl") else {
            Issue.record("curl is needed for this test (apt-get install curl)")
            return
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pruned-crash-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        let model = dir.appendingPathComponent("net.onnx")
        try ONNXFile.write(ExampleArchitecture.resnet.build(seed: 3), to: model)
        let big = dir.appendingPathComponent("big.onnx")
        try Data(count: 8 << 20).write(to: big)

        // First life: every stage pauses, so the first job is surely running when we kill.
        let first = try Server(dataDir: data, environment: ["PRUNED_DEBUG_STAGE_DELAY_MS": "400"])
        let running = try Self.submit(first.port, model: model)
        let queued = try Self.submit(first.port, model: model)
        #expect(try Self.waitFor(first.port, running, ["running"]) == "running")
        let upload = Process()
        upload.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        upload.arguments = ["-s", "--limit-rate", "200k", "-F", "model=@\(big.path)", "http://127.0.0.1:\(first.port)/jobs"]
        upload.standardOutput = FileHandle.nullDevice
        upload.standardError = FileHandle.nullDevice
        try upload.run()
        // Wait until the upload has started landing on disk.
        let uploads = data.appendingPathComponent("uploads")
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline, (try? FileManager.default.contentsOfDirectory(atPath: uploads.path))?.isEmpty ?? true {
            Thread.sleep(forTimeInterval: 0.05)
        }
        #expect(!(try FileManager.default.contentsOfDirectory(atPath: uploads.path)).isEmpty)
        first.kill9()
        upload.waitUntilExit()

        // Second life: both accepted jobs complete; the half upload is gone; no other job appeared.
        let second = try Server(dataDir: data)
        #expect(try Self.waitFor(second.port, running, ["succeeded", "failed"]) == "succeeded")
        #expect(try Self.waitFor(second.port, queued, ["succeeded", "failed"]) == "succeeded")
        let jobs = try FileManager.default.contentsOfDirectory(atPath: data.appendingPathComponent("jobs").path)
        #expect(Set(jobs) == [running, queued])
        #expect(try FileManager.default.contentsOfDirectory(atPath: uploads.path).isEmpty)
        let listed = try Self.curl(["http://127.0.0.1:\(second.port)/jobs/\(running)"])
        #expect(listed.contains("\"attempts\":1"))
        #expect(second.terminate() == 0)
    }
}
