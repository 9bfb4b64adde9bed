import Foundation
import Testing
@testable import PruneService

func temporaryDirectory() -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("pruned-test-\(UUID().uuidString)")
    try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

@Suite struct JobStoreTests {
    func makeJob(_ store: JobStore, created: Date = Date()) throws -> Job {
        let upload = try store.newUpload()
        try Data("model".utf8).write(to: upload.appendingPathComponent("inputs/net.onnx"))
        let job = Job(id: Job.newID(), config: JobConfig(), models: [.init(name: "net.onnx", task: "net", format: "onnx", bytes: 5)],
                      data: nil, createdAt: created)
        try store.commit(upload: upload, job: job)
        return job
    }

    @Test func idsAre128RandomBits() {
        let ids = (0..<200).map { _ in Job.newID() }
        #expect(Set(ids).count == 200)
        #expect(ids.allSatisfy(Job.isValidID))
        #expect(!Job.isValidID("../etc") && !Job.isValidID(String(repeating: "A", count: 32)))
    }

    @Test func recoveryRequeuesRunningJobsAndDropsHalfUploads() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try JobStore(dataDirectory: dir)
        let running = try makeJob(store)
        let done = try makeJob(store)
        try store.update(running.id) { $0.status = .running; $0.stage = "write"; $0.progress = 0.5 }
        try store.update(done.id) { $0.status = .succeeded; $0.progress = 1 }
        // A crash mid-upload leaves a folder under uploads/; a crash before job.json a bare job folder.
        let half = try store.newUpload()
        try Data(count: 1000).write(to: half.appendingPathComponent("inputs/big.onnx"))
        try FileManager.default.createDirectory(at: store.jobsDirectory.appendingPathComponent(Job.newID()), withIntermediateDirectories: true)

        let again = try JobStore(dataDirectory: dir)
        let r = try again.recover()
        #expect(r.loaded == 2 && r.requeued == [running.id] && r.removedUploads == 1 && r.removedBroken.count == 1)
        #expect(again.job(running.id)?.status == .queued && again.job(running.id)?.attempts == 1)
        #expect(again.job(running.id)?.progress == 0)
        #expect(again.job(done.id)?.status == .succeeded)
        #expect(try FileManager.default.contentsOfDirectory(atPath: again.uploadsDirectory.path).isEmpty)
        #expect(FileManager.default.fileExists(atPath: again.inputs(of: done.id).appendingPathComponent("net.onnx").path))
        // And the requeue itself was written down.
        let third = try JobStore(dataDirectory: dir)
        try third.recover()
        #expect(third.job(running.id)?.attempts == 1)
    }

    /// A job that brings the process down must not keep the service down: the third time it is
    /// found running it fails as `interrupted` instead of going back to the queue.
    @Test func aJobInterruptedThreeTimesFailsInsteadOfLoopingForever() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let id = try makeJob(try JobStore(dataDirectory: dir)).id
        var outcomes: [(Job.Status, Int)] = []
        for _ in 0..<4 {
            let store = try JobStore(dataDirectory: dir)
            try store.recover()
            if store.job(id)?.status == .queued { try store.update(id) { $0.status = .running; $0.stage = "optimize" } }
            let job = try #require(store.job(id))
            outcomes.append((job.status, job.attempts))
        }
        // Recovered while running: requeued (attempt 1), requeued (2), failed (3); then it stays failed.
        #expect(outcomes.map(\.1) == [0, 1, 2, 3])
        #expect(outcomes.map(\.0) == [.running, .running, .running, .failed])
        let failed = try JobStore(dataDirectory: dir)
        #expect(try failed.recover().abandoned.isEmpty)  // already failed: nothing more to do
        #expect(failed.job(id)?.error?.code == "interrupted" && failed.job(id)?.error?.message.contains("stage 'optimize'") == true)
    }

    @Test func listsNewestFirstWithCursorAndFilter() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try JobStore(dataDirectory: dir)
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        let jobs = try (0..<5).map { try makeJob(store, created: t0.addingTimeInterval(Double($0))) }
        try store.update(jobs[1].id) { $0.status = .failed }
        let first = store.list(limit: 2)!
        #expect(first.jobs.map(\.id) == [jobs[4].id, jobs[3].id] && first.next == jobs[3].id)
        let second = store.list(limit: 2, after: first.next)!
        #expect(second.jobs.map(\.id) == [jobs[2].id, jobs[1].id])
        let last = store.list(limit: 2, after: second.next)!
        #expect(last.jobs.map(\.id) == [jobs[0].id] && last.next == nil)
        #expect(store.list(status: .failed, limit: 10)!.jobs.map(\.id) == [jobs[1].id])
        #expect(store.list(limit: 2, after: Job.newID()) == nil)
        #expect(store.queued().map(\.id) == [jobs[0].id, jobs[2].id, jobs[3].id, jobs[4].id])
    }

    @Test func deleteRemovesFolderAndRetentionFindsOldFinishedJobs() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try JobStore(dataDirectory: dir)
        let old = try makeJob(store), fresh = try makeJob(store), queued = try makeJob(store)
        let now = Date()
        try store.update(old.id) { $0.status = .succeeded; $0.finishedAt = now.addingTimeInterval(-7200) }
        try store.update(fresh.id) { $0.status = .failed; $0.finishedAt = now }
        _ = queued
        #expect(store.expired(olderThan: 3600, now: now) == [old.id])
        try store.delete(old.id)
        #expect(store.job(old.id) == nil)
        #expect(!FileManager.default.fileExists(atPath: store.directory(of: old.id).path))
    }

    @Test func oldOrUnreadableJobFilesAreNeverDeleted() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try JobStore(dataDirectory: dir)
        let job = try makeJob(store)
        let other = try makeJob(store)
        // A job.json from before `attempts`, `stage` and the config keys existed.
        let old = #"{"id":"\#(job.id)","status":"queued","createdAt":"2026-01-01T00:00:00Z","models":[{"name":"net.onnx","task":"net","format":"onnx","bytes":5}]}"#
        try Data(old.utf8).write(to: store.directory(of: job.id).appendingPathComponent("job.json"))
        try Data("{ garbage".utf8).write(to: store.directory(of: other.id).appendingPathComponent("job.json"))
        let again = try JobStore(dataDirectory: dir)
        let r = try again.recover()
        #expect(again.job(job.id)?.config.rate == 0.3 && again.job(job.id)?.attempts == 0)
        #expect(r.quarantined == [other.id] && again.job(other.id) == nil)
        #expect(FileManager.default.fileExists(atPath: again.quarantineDirectory.appendingPathComponent(other.id).appendingPathComponent("inputs/net.onnx").path))
    }
}
