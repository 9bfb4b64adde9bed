import Foundation

/// A data file for recalibration, fine-tuning and evaluation: safetensors with `input`
/// (N×C×H×W, any float dtype) and `label` (N class indices, any integer dtype) or one
/// `label.<task>` per task; a task with neither distils from its unpruned model.
///
/// The inputs stay in the file's bytes (mapped, not copied) and are decoded one batch at a
/// time, so a data set larger than memory in F32 still trains.
public struct TrainingData: Sendable {
    public static let inputName = "input"
    public static let labelName = "label"

    /// N×C×H×W in the file's dtype.
    public let input: Tensor
    /// Class indices by tensor name (`label`, `label.<task>`).
    public let labels: [String: [Int]]

    public var count: Int { input.shape[0] }
    /// C×H×W.
    public var sampleShape: [Int] { Array(input.shape.dropFirst()) }

    /// Checks shapes, dtypes, counts, finiteness and label signs; every error names its tensor.
    public init(input: Tensor, labels: [String: Tensor]) throws(TrainingDataError) {
        let name = Self.inputName
        guard input.dtype.isFloatingPoint else { throw .wrongDType(tensor: name, expected: "a float type (F32, F16, BF16, F64)", dtype: input.dtype) }
        guard input.rank == 4 else { throw .wrongRank(tensor: name, expected: "N×C×H×W (rank 4)", shape: input.shape) }
        guard input.shape[0] > 0 else { throw .empty(tensor: name) }
        let n = input.shape[0]
        if let bad = Self.firstNonFinite(input) { throw .nonFinite(tensor: name, sample: bad) }
        var decoded: [String: [Int]] = [:]
        for (labelName, tensor) in labels {
            guard !tensor.dtype.isFloatingPoint else {
                throw .wrongDType(tensor: labelName, expected: "an integer type (I64, I32, I8, U8)", dtype: tensor.dtype)
            }
            guard tensor.rank == 1 || (tensor.rank == 2 && tensor.shape[1] == 1) else {
                throw .wrongRank(tensor: labelName, expected: "N (rank 1)", shape: tensor.shape)
            }
            guard tensor.shape[0] == n else { throw .countMismatch(tensor: labelName, count: tensor.shape[0], inputs: n) }
            let values = tensor.int64s()
            if let i = values.firstIndex(where: { $0 < 0 }) { throw .negativeLabel(tensor: labelName, sample: i, value: values[i]) }
            decoded[labelName] = values.map { Int($0) }
        }
        self.input = input
        self.labels = decoded
    }

    /// Reads a data file; the error names the tensor (or the byte offset) at fault.
    public static func read(contentsOf url: URL) throws(TrainingDataError) -> TrainingData {
        guard FileManager.default.fileExists(atPath: url.path) else { throw .missingFile(path: url.path) }
        let file: SafeTensorsFile
        do { file = try SafeTensorsFile.read(contentsOf: url) } catch {
            throw .unreadable(path: url.lastPathComponent, reason: "\(error)")
        }
        return try TrainingData(file: file)
    }

    public init(file: SafeTensorsFile) throws(TrainingDataError) {
        var input: Tensor?
        var labels: [String: Tensor] = [:]
        for entry in file.tensors {
            if entry.name == Self.inputName {
                input = entry.tensor
            } else if entry.name == Self.labelName || (entry.name.hasPrefix(Self.labelName + ".") && entry.name.count > Self.labelName.count + 1) {
                labels[entry.name] = entry.tensor
            } else {
                throw .unexpectedTensor(entry.name)
            }
        }
        guard let input else { throw .missingTensor(Self.inputName) }
        try self.init(input: input, labels: labels)
    }

    /// The labels a model of `task` trains on when it is pruned alone: `labelNames(forTasks: [task])`.
    public func labelName(forTask task: String) throws(TrainingDataError) -> String? {
        try labelNames(forTasks: [task])[0]
    }

    /// The labels each task of a job trains on: `label.<task>`, else `label`; nil for a task
    /// without either, which distils from its unpruned model (ALGORITHM.md §5). A `label.<x>`
    /// naming no task of the job while some task has no labels is an error: it is most likely
    /// that task's labels under a misspelt name, which would otherwise be dropped silently.
    public func labelNames(forTasks tasks: [String]) throws(TrainingDataError) -> [String?] {
        let names = tasks.map { task -> String? in
            let own = "\(Self.labelName).\(task)"
            if labels[own] != nil { return own }
            return labels[Self.labelName] != nil ? Self.labelName : nil
        }
        let unmatched = labels.keys.filter { $0 != Self.labelName && !tasks.contains(String($0.dropFirst(Self.labelName.count + 1))) }.sorted()
        if let t = names.firstIndex(where: { $0 == nil }), !unmatched.isEmpty {
            throw .noLabelsForTask(task: tasks[t], unmatched: unmatched)
        }
        return names
    }

    /// The samples at `indices`, decoded to F32, as one batch (k×C×H×W).
    public func inputs(_ indices: [Int]) -> NDArray<Float> {
        NDArray(input.gathering(axis: 0, indices: indices))
    }

    /// Index of the first sample holding a NaN or infinity, checked a slice at a time.
    private static func firstNonFinite(_ input: Tensor) -> Int? {
        let sampleBytes = input.count / input.shape[0] * input.dtype.size
        let chunk = max(1, (1 << 22) / max(sampleBytes, 1))
        var start = 0
        while start < input.shape[0] {
            let end = min(input.shape[0], start + chunk)
            let slice = try! Tensor(dtype: input.dtype, shape: [end - start] + input.shape.dropFirst(),
                                    data: input.data.subdata(in: (input.data.startIndex + start * sampleBytes)..<(input.data.startIndex + end * sampleBytes)))
            let values = slice.floats()
            if let i = values.firstIndex(where: { !$0.isFinite }) { return start + i / max(input.count / input.shape[0], 1) }
            start = end
        }
        return nil
    }
}
