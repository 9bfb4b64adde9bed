import Foundation
import Testing
@testable import PruneKit

@Suite struct TrainingDataTests {
    static func images(_ n: Int, channels: Int = 1, size: Int = 2, dtype: DType = .f32, seed: UInt64 = 1) -> Tensor {
        Tensor(shape: [n, channels, size, size], floats: KernelFixtures.values(n * channels * size * size, seed: seed), dtype: dtype)
    }

    static func labels(_ values: [Int64]) -> Tensor { Tensor(shape: [values.count], int64s: values) }

    static func file(_ entries: [(String, Tensor)]) -> SafeTensorsFile {
        SafeTensorsFile(tensors: entries.map { .init($0.0, $0.1) })
    }

    static func error(_ entries: [(String, Tensor)]) -> TrainingDataError? {
        do { _ = try TrainingData(file: file(entries)); return nil } catch { return error }
    }

    @Test func readsInputsAndLabelsOfAnyWidth() throws {
        let x = Self.images(3, dtype: .f16)
        let narrow = try Tensor(dtype: .u8, shape: [3], data: Data([2, 0, 1]))
        let data = try TrainingData(file: Self.file([("input", x), ("label.digits", narrow), ("label", Self.labels([1, 1, 0]))]))
        #expect(data.count == 3)
        #expect(data.sampleShape == [1, 2, 2])
        #expect(data.labels["label.digits"] == [2, 0, 1])
        #expect(try data.labelName(forTask: "digits") == "label.digits")
        #expect(try data.labelName(forTask: "other") == "label")
        // Rows come back decoded from F16, in the order asked.
        let batch = data.inputs([2, 0])
        #expect(batch.shape == [2, 1, 2, 2])
        let all = x.floats()
        #expect(batch.storage == Array(all[8..<12]) + Array(all[0..<4]))
    }

    @Test func errorsNameTheTensor() {
        let x = Self.images(4)
        #expect(Self.error([("label", Self.labels([0, 1, 2, 3]))]) == .missingTensor("input"))
        #expect(Self.error([("input", x), ("labels", Self.labels([0, 1, 2, 3]))]) == .unexpectedTensor("labels"))
        #expect(Self.error([("input", Tensor(shape: [4, 4], floats: .init(repeating: 0, count: 16)))])
                == .wrongRank(tensor: "input", expected: "N×C×H×W (rank 4)", shape: [4, 4]))
        #expect(Self.error([("input", Tensor(shape: [1, 1, 1, 1], int64s: [3]))])
                == .wrongDType(tensor: "input", expected: "a float type (F32, F16, BF16, F64)", dtype: .i64))
        #expect(Self.error([("input", x), ("label.a", Tensor(shape: [4], floats: [0, 1, 0, 1]))])
                == .wrongDType(tensor: "label.a", expected: "an integer type (I64, I32, I8, U8)", dtype: .f32))
        #expect(Self.error([("input", x), ("label", Tensor(shape: [2, 2], int64s: [0, 1, 0, 1]))])
                == .wrongRank(tensor: "label", expected: "N (rank 1)", shape: [2, 2]))
        #expect(Self.error([("input", x), ("label.b", Self.labels([0, 1, 2]))]) == .countMismatch(tensor: "label.b", count: 3, inputs: 4))
        #expect(Self.error([("input", x), ("label", Self.labels([0, -1, 2, 3]))]) == .negativeLabel(tensor: "label", sample: 1, value: -1))
        #expect(Self.error([("input", Tensor(shape: [0, 1, 2, 2], floats: []))]) == .empty(tensor: "input"))
        var values = x.floats()
        values[2 * 4 + 3] = .nan
        #expect(Self.error([("input", Tensor(shape: x.shape, floats: values))]) == .nonFinite(tensor: "input", sample: 2))
        #expect(TrainingDataError.countMismatch(tensor: "label.b", count: 3, inputs: 4).description.contains("'label.b'"))
    }

    @Test func labelsForOtherTasksOnlyAreAnError() throws {
        let data = try TrainingData(file: Self.file([("input", Self.images(2)), ("label.a", Self.labels([0, 1]))]))
        #expect(throws: TrainingDataError.noLabelsForTask(task: "b", unmatched: ["label.a"])) { try data.labelName(forTask: "b") }
        #expect(TrainingDataError.noLabelsForTask(task: "b", unmatched: ["label.a"]).description.contains("'label.b'"))
        let unlabelled = try TrainingData(file: Self.file([("input", Self.images(2))]))
        #expect(try unlabelled.labelName(forTask: "b") == nil)
        #expect(try unlabelled.labelNames(forTasks: ["a", "b"]) == [nil, nil])
    }

    /// In a job, a task without labels distils; a label naming no task is an error only when
    /// some task goes without (it is likely that task's, misspelt).
    @Test func partialLabelsLeaveTheOtherTasksToDistil() throws {
        let data = try TrainingData(file: Self.file([("input", Self.images(2)), ("label.a", Self.labels([0, 1]))]))
        #expect(try data.labelNames(forTasks: ["a", "b"]) == ["label.a", nil])
        #expect(try data.labelNames(forTasks: ["b", "a", "c"]) == [nil, "label.a", nil])
        let extra = try TrainingData(file: Self.file([("input", Self.images(2)), ("label.a", Self.labels([0, 1])), ("label.c", Self.labels([1, 0]))]))
        #expect(throws: TrainingDataError.noLabelsForTask(task: "b", unmatched: ["label.c"])) { try extra.labelNames(forTasks: ["a", "b"]) }
        #expect(try extra.labelNames(forTasks: ["a"]) == ["label.a"], "every task labelled: an extra label is unused, as before")
        let plain = try TrainingData(file: Self.file([("input", Self.images(2)), ("label", Self.labels([0, 1])), ("label.c", Self.labels([1, 0]))]))
        #expect(try plain.labelNames(forTasks: ["a", "c"]) == ["label", "label.c"])
    }

    @Test func fileErrors() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("data-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let missing = dir.appendingPathComponent("none.safetensors")
        #expect(throws: TrainingDataError.missingFile(path: missing.path)) { try TrainingData.read(contentsOf: missing) }
        let garbage = dir.appendingPathComponent("bad.safetensors")
        try Data([1, 2, 3]).write(to: garbage)
        #expect { try TrainingData.read(contentsOf: garbage) } throws: { error in
            guard case let .unreadable(path, reason)? = error as? TrainingDataError else { return false }
            return path == "bad.safetensors" && reason.contains("too short")
        }
        let good = dir.appendingPathComponent("good.safetensors")
        try Self.file([("input", Self.images(2)), ("label", Self.labels([1, 0]))]).write(to: good)
        #expect(try TrainingData.read(contentsOf: good).labels["label"] == [1, 0])
    }

    @Test func splitIsSeededDisjointAndComplete() throws {
        let a = try DataSplit(count: 95, seed: 7)
        #expect(a == (try DataSplit(count: 95, seed: 7)))
        #expect(a.heldOut.count == 10)  // round(9.5) = 10
        #expect(Set(a.heldOut).isDisjoint(with: a.training))
        #expect((a.heldOut + a.training).sorted() == Array(0..<95))
        #expect(a.heldOut == a.heldOut.sorted())
        #expect(a.heldOut != (try DataSplit(count: 95, seed: 8)).heldOut)
        #expect(try DataSplit(count: 5, heldOutFraction: 0, seed: 1).training == Array(0..<5))
        #expect(try DataSplit(count: 2, seed: 1).heldOut.count == 1)
        #expect(throws: TrainingDataError.tooFewSamples(count: 1, needed: 2)) { try DataSplit(count: 1, seed: 1) }
    }

    @Test func aLoneLastSampleJoinsTheBatchBeforeInTraining() {
        #expect(BatchOrder.forTraining(BatchOrder.inOrder(Array(0..<9), size: 4)) == [[0, 1, 2, 3], [4, 5, 6, 7, 8]])
        #expect(BatchOrder.forTraining(BatchOrder.inOrder(Array(0..<10), size: 4)) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]])
        #expect(BatchOrder.forTraining([[5]]) == [[5]])  // one sample in all: nothing to join
    }

    @Test func batchesCoverEverySampleOncePerEpoch() {
        let indices = Array(10..<33)
        let epoch0 = BatchOrder.shuffled(indices, size: 5, seed: 3, epoch: 0)
        #expect(epoch0.map(\.count) == [5, 5, 5, 5, 3])
        #expect(epoch0.flatMap { $0 }.sorted() == indices)
        #expect(epoch0 == BatchOrder.shuffled(indices, size: 5, seed: 3, epoch: 0))
        #expect(epoch0 != BatchOrder.shuffled(indices, size: 5, seed: 3, epoch: 1))
        #expect(epoch0.flatMap { $0 } != indices)
        #expect(BatchOrder.inOrder(indices, size: 10) == [Array(10..<20), Array(20..<30), Array(30..<33)])
    }
}
