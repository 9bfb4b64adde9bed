import ArgumentParser
import Foundation
import PruneKit

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a model from its current weights on a data file, and write the trained model.",
        discussion: """
            MODEL is trained as it is (a fresh export trains from scratch) with cross-entropy on the \
            data's 'label' (or 'label.<model name>'): SGD with momentum and weight decay, a cosine \
            schedule stepped per batch, batches reshuffled every epoch (seeded). --holdout of the \
            samples are kept out of training and scored before and after. OUT gets the trained \
            weights, in each tensor's original dtype.

            Example:  pruned train net.onnx --data train.safetensors --epochs 10 --lr 0.05 --batch-size 64 --out trained.onnx
            """
    )

    @Argument(help: "Model file (.onnx, or .safetensors of a plain sequential state_dict).")
    var model: String

    @Option(help: "Data file (.safetensors with 'input' and 'label').")
    var data: String

    @Option(help: "Epochs over the training samples.")
    var epochs: Int

    @OptionGroup(title: "Training recipe")
    var recipe: RecipeOptions

    @Option(help: "Seed of the held-out split and of the batch order.")
    var seed: UInt64 = 0

    @Option(help: "Output model file (.onnx or .safetensors).")
    var out: String

    @Option(help: "Also write the report (scores, loss and seconds per epoch) to this JSON file.")
    var report: String?

    func validate() throws {
        guard ModelFormat(path: model) != nil else { throw ValidationError("\(model): expected a .onnx or .safetensors file") }
        guard let format = ModelFormat(path: out) else { throw ValidationError("--out must end in .onnx or .safetensors") }
        if format == .onnx && ModelFormat(path: model) == .safetensors {
            throw ValidationError("\(model): a safetensors model carries no graph to write as ONNX; use --out x.safetensors")
        }
        try RecipeOptions.validate(recipe.training(epochs: epochs, seed: seed), epochsFlag: "--epochs")
    }

    func run() throws {
        do {
            let loaded = try ModelFile.load(URL(argument: model))
            let data = try TrainingData.read(contentsOf: URL(argument: self.data))
            let (graph, result) = try TrainingRun.run(loaded, data: data, options: recipe.training(epochs: epochs, seed: seed))
            for e in result.epochs {
                print("epoch \(e.epoch): loss \(String(format: "%.4f", e.loss)), lr \(String(format: "%.5f", e.learningRate)), \(String(format: "%.2f", e.seconds)) s")
            }
            if let before = result.before, let after = result.after {
                print("held-out (\(result.heldOutSamples) samples): accuracy \(String(format: "%.4f", before.accuracy)) -> \(String(format: "%.4f", after.accuracy)), loss \(String(format: "%.4f", before.loss)) -> \(String(format: "%.4f", after.loss))")
            }
            try ModelFile.write(graph, format: ModelFormat(path: out)!, metadata: loaded.metadata, to: URL(argument: out))
            if let report {
                try ReportJSON.encode(result).write(to: URL(argument: report), options: .atomic)
            }
            print("wrote \(out)")
        } catch {
            throw fail(error)
        }
    }
}
