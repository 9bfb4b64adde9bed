import Foundation
import PruneKit
import Testing

/// `pruned prune --data ... --finetune-epochs` and `pruned train` as a user runs them: the real
/// binary, its flags, its files and exit codes.
@Suite(.serialized) struct TrainingCommandTests {
    static func run(_ arguments: [String]) throws -> (status: Int32, output: String, error: String) {
        let process = Process()
        process.executableURL = CrashRecoveryTests.binary
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let output = out.fileHandleForReading.readDataToEndOfFile()
        let error = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self), String(decoding: error, as: UTF8.self))
    }

    /// An example model, and 40 noisy images labelled with its own predictions.
    static func files() throws -> (dir: URL, model: String, data: String) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cli-train-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let graph = ExampleArchitecture.resnet.build(seed: 4, inputSize: 8)
        let model = dir.appendingPathComponent("net.onnx")
        try ModelFile.write(graph, format: .onnx, to: model)
        let input = Tensor(shape: [40, 3, 8, 8], floats: (0..<(40 * 192)).map { Float(($0 * 104_729) % 97) / 24 - 2 }, dtype: .f16)
        let images = try TrainingData(input: input, labels: [:])
        let labels = ClassifierScore.predictions(try ClassifierGraph(graph, sampleShape: [3, 8, 8]).logits(images.inputs(Array(0..<40))))
        let data = dir.appendingPathComponent("data.safetensors")
        try SafeTensorsFile(tensors: [.init("input", input), .init("label", Tensor(shape: [40], int64s: labels.map(Int64.init)))]).write(to: data)
        return (dir, model.path, data.path)
    }

    /// A model whose channels an unknown op pins says so on the console, not only in
    /// report.json; a model pinned only at its input and output says nothing.
    @Test func pruneSaysWhichGroupsAnOpPinned() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cli-pinned-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var graph = ExampleArchitecture.vgg.build(seed: 1, inputSize: 8)
        let plain = dir.appendingPathComponent("plain.onnx")
        try ModelFile.write(graph, format: .onnx, to: plain)
        let relu = try #require(graph.nodes.firstIndex { $0.opType == "Relu" })
        graph.nodes[relu].opType = "ThresholdedRelu"
        let unknown = dir.appendingPathComponent("unknown.onnx")
        try ModelFile.write(graph, format: .onnx, to: unknown)
        let quiet = try Self.run(["prune", plain.path, "--rate", "0.3", "--generations", "2", "--out", dir.appendingPathComponent("a").path])
        #expect(quiet.status == 0 && !quiet.output.contains("not pruned"), "\(quiet.output)")
        let pinned = try Self.run(["prune", unknown.path, "--rate", "0.3", "--generations", "2", "--out", dir.appendingPathComponent("b").path])
        let line = pinned.output.split(separator: "\n").first { $0.contains("not pruned:") }.map(String.init)
        #expect(pinned.status == 0 && line?.contains("'\(graph.nodes[relu].label)'") == true, "\(pinned.output)")
        #expect(line?.hasSuffix("see report.json groups") == true)
    }

    @Test func pruneWithDataWritesTheFineTunedModelAndItsScores() throws {
        let (dir, model, data) = try Self.files()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out")
        let r = try Self.run(["prune", model, "--rate", "0.5", "--data", data, "--finetune-epochs", "1", "--lr", "0.02",
                              "--batch-size", "8", "--out", out.path])
        #expect(r.status == 0, "\(r.error)")
        #expect(r.output.contains("held-out accuracy (4 samples, label): 1.000 before"))
        let report = try JSONDecoder().decode(PruneReport.self, from: Data(contentsOf: out.appendingPathComponent("report.json")))
        let accuracy = try #require(report.models.first?.accuracy)
        #expect(accuracy.afterFineTuning != nil && accuracy.recalibratedBatchNorms.count == 6)  // bn1, two per block, the projection's
        #expect(report.training == TrainingOptions(epochs: 1, learningRate: 0.02, batchSize: 8))
        #expect(try ModelFile.load(out.appendingPathComponent("net.onnx")).graph.initializers["conv1.weight"]?.shape == [8, 3, 3, 3])
    }

    @Test func trainWritesTheTrainedModelAndAReport() throws {
        let (dir, model, data) = try Self.files()
        defer { try? FileManager.default.removeItem(at: dir) }
        let trained = dir.appendingPathComponent("trained.onnx").path
        let reportPath = dir.appendingPathComponent("train.json").path
        let r = try Self.run(["train", model, "--data", data, "--epochs", "2", "--lr", "0.05", "--batch-size", "16",
                              "--holdout", "0.25", "--out", trained, "--report", reportPath])
        #expect(r.status == 0, "\(r.error)")
        #expect(r.output.contains("epoch 2: loss"))
        let report = try JSONDecoder().decode(TrainingRun.Report.self, from: Data(contentsOf: URL(fileURLWithPath: reportPath)))
        #expect(report.heldOutSamples == 10 && report.trainingSamples == 30 && report.epochs.count == 2)
        #expect(report.before?.accuracy == 1)
        let before = try ModelFile.load(URL(fileURLWithPath: model)).graph
        let after = try ModelFile.load(URL(fileURLWithPath: trained)).graph
        #expect(after.initializers["conv1.weight"]?.shape == before.initializers["conv1.weight"]?.shape)
        #expect(after.initializers["conv1.weight"] != before.initializers["conv1.weight"])
    }

    @Test func badFlagsAndFilesGetTheirExitCodes() throws {
        let (dir, model, data) = try Self.files()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("o").path
        #expect(try Self.run(["prune", model, "--rate", "0.3", "--finetune-epochs", "1", "--out", out]).status == 64)
        #expect(try Self.run(["prune", model, "--rate", "0.3", "--data", data, "--batch-size", "0", "--out", out]).status == 64)
        let unmeasured = try Self.run(["prune", model, "--criteria", "activation,irreplaceability", "--out", out])
        #expect(unmeasured.status == 64 && unmeasured.error.contains("activation is measured on calibration data"))
        #expect(try Self.run(["prune", model, "--data", data, "--candidates", "0", "--out", out]).status == 64)
        let margin = try Self.run(["prune", model, "--data", data, "--accuracy-margin=-1", "--out", out])
        #expect(margin.status == 64 && margin.error.contains("--accuracy-margin: must be in 0...100"))
        // Two models of one stem (the task name): a usage error, before anything is read.
        let twice = try Self.run(["prune", model, model, "--out", out])
        #expect(twice.status == 64 && twice.error.contains("two models are named 'net'"), "\(twice.error)")
        let help = try Self.run(["prune", "--help"]).output
        #expect(help.contains("--candidates <K>") && help.contains("Ignored without --data") && help.contains("Default 8, or 1 with") && help.contains("--accuracy-margin <POINTS>"))
        #expect(try Self.run(["train", model, "--data", data, "--epochs", "1", "--lr=-1", "--out", out + ".onnx"]).status == 64)
        let missing = try Self.run(["prune", model, "--rate", "0.3", "--data", dir.appendingPathComponent("none.safetensors").path, "--out", out])
        #expect(missing.status == 66 && missing.error.contains("no such file"))
        let unlabelled = dir.appendingPathComponent("x.safetensors")
        try SafeTensorsFile(tensors: [.init("input", Tensor(shape: [2, 3, 8, 8], floats: .init(repeating: 0, count: 384)))]).write(to: unlabelled)
        let noLabels = try Self.run(["train", model, "--data", unlabelled.path, "--epochs", "1", "--out", out + ".onnx"])
        #expect(noLabels.status == 65 && noLabels.error.contains("'label'"))
    }

    /// An output folder that cannot be made: exit 73 naming the path and the system's reason,
    /// not Foundation's `Error Domain=NSCocoaErrorDomain Code=...` dump.
    @Test func anOutputFolderThatCannotBeMadeIsNamed() throws {
        let (dir, model, _) = try Self.files()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("a-file")
        try Data("x".utf8).write(to: file)
        let out = file.appendingPathComponent("out").path
        let r = try Self.run(["prune", model, "--out", out])
        #expect(r.status == 73)
        #expect(r.error.hasPrefix("error: cannot write \(out): ") && !r.error.contains("NSCocoaErrorDomain"), "\(r.error)")
    }
}
