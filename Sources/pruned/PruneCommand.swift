import ArgumentParser
import Foundation
import PruneKit

struct PruneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Remove the least important filters of each model and write the smaller models.",
        discussion: """
            Each MODEL (.onnx, or .safetensors of a plain sequential PyTorch state_dict) is analyzed \
            into channel groups (channels that must go together: residual adds, concat, grouped and \
            depthwise convs, flatten into linear), the lowest-L1 filters of every prunable group are \
            removed, and DIR/<name>.<format> plus DIR/report.json are written.

            With --data (safetensors: 'input' N×C×H×W, 'label' N class indices or one 'label.<task>' \
            per model; without labels the unpruned model is the teacher), 10% of the samples (seeded) \
            are held out; each model is scored on them before and after pruning, its BN running \
            statistics are re-estimated on the rest (for BN folded into convs at export: a per-channel \
            affine correction restoring each channel's mean and variance), it is fine-tuned for \
            --finetune-epochs epochs (SGD with momentum and weight decay, cosine schedule), and \
            scored after each step in report.json. The weights written are the fine-tuned ones.

            Example:  pruned prune net.onnx --rate 0.3 --out out/
                      pruned prune net.onnx --rate 0.3 --data train.safetensors --finetune-epochs 5 --out out/
            """
    )

    @Argument(help: "Model files (.onnx or .safetensors); the output for x.onnx is DIR/x.onnx.")
    var models: [String]

    @Option(help: "Fraction of each prunable group's channels to remove, in [0, 1).")
    var rate: Double

    @Option(help: "Output folder (created if missing).")
    var out: String

    @Option(help: "Output format: same (as the input), onnx, safetensors or both.")
    var format: PruningPipeline.OutputFormat = .same

    @Option(name: .customLong("input-shape"), help: "Shape of a graph input whose declared shape is symbolic, e.g. input=1x3x224x224 (repeatable).")
    var inputShapes: [String] = []

    @Option(help: "Data file (.safetensors) to score, recalibrate and fine-tune with.")
    var data: String?

    @Option(name: .customLong("finetune-epochs"), help: "Fine-tuning epochs after recalibration (needs --data).")
    var finetuneEpochs: Int = 0

    @OptionGroup(title: "Training recipe (with --data)")
    var recipe: RecipeOptions

    func validate() throws {
        if let problem = PruningPipeline.checkRate(rate) { throw ValidationError(problem) }
        try RecipeOptions.validate(recipe.training(epochs: finetuneEpochs), epochsFlag: "--finetune-epochs")
        if finetuneEpochs > 0 && data == nil { throw ValidationError("--finetune-epochs needs --data") }
        for m in models where ModelFormat(path: m) == nil {
            throw ValidationError("\(m): expected a .onnx or .safetensors file")
        }
        _ = try parsedInputShapes()
    }

    func parsedInputShapes() throws -> [String: [Int]] {
        var shapes: [String: [Int]] = [:]
        for spec in inputShapes {
            let parts = spec.split(separator: "=", maxSplits: 1)
            let dims = parts.count == 2 ? parts[1].split(separator: "x").map { Int($0) } : []
            guard parts.count == 2, !dims.isEmpty, dims.allSatisfy({ ($0 ?? 0) > 0 }) else {
                throw ValidationError("--input-shape '\(spec)': expected NAME=D1xD2x..., e.g. input=1x3x224x224")
            }
            shapes[String(parts[0])] = dims.map { $0! }
        }
        return shapes
    }

    func run() throws {
        let pipeline = PruningPipeline(options: .init(rate: rate, format: format, inputShapes: try parsedInputShapes(),
                                                      data: data.map(URL.init(argument:)), training: recipe.training(epochs: finetuneEpochs)))
        do {
            let report = try pipeline.run(models: models.map(URL.init(argument:)), outputDirectory: URL(argument: out))
            for m in report.models {
                let pct = m.before.params > 0 ? 100 * Double(m.after.params) / Double(m.before.params) : 100
                print("\(m.task): params \(m.before.params) -> \(m.after.params) (\(String(format: "%.1f", pct))%), wrote \(m.outputs.joined(separator: ", "))")
                if let a = m.accuracy { print(a.summaryLine) }
            }
            print("report: \(URL(argument: out).appendingPathComponent("report.json").path)")
        } catch {
            throw fail(error)
        }
    }
}

extension PruningPipeline.OutputFormat: ExpressibleByArgument {}

extension AccuracyReport {
    /// `held-out accuracy: 0.985 before, 0.612 pruned, 0.903 recalibrated, 0.979 fine-tuned`.
    var summaryLine: String {
        let steps: [(String, ClassifierScore?)] = [("before", beforePruning), ("pruned", afterPruning),
                                                   ("recalibrated", afterRecalibration), ("fine-tuned", afterFineTuning)]
        let parts = steps.compactMap { name, s in s.map { "\(String(format: "%.3f", $0.accuracy)) \(name) (loss \(String(format: "%.3f", $0.loss)))" } }
        return "  held-out accuracy (\(heldOutSamples) samples, \(labels)): " + parts.joined(separator: ", ")
    }
}
