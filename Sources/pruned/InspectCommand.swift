import ArgumentParser
import Foundation
import PruneKit

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show a model's layers, channel groups, what is prunable and why, params and FLOPs."
    )

    @Argument(help: "Model file (.onnx or .safetensors).")
    var model: String

    @Flag(help: "Print JSON instead of text.")
    var json = false

    @Option(name: .customLong("input-shape"), help: ArgumentHelp(InputShapeOption.help + " FLOPs need every dimension."))
    var inputShapes: [String] = []

    func validate() throws {
        guard ModelFormat(path: model) != nil else { throw ValidationError("\(model): expected a .onnx or .safetensors file") }
        _ = try InputShapeOption.parse(inputShapes)
    }

    func run() throws {
        let loaded: LoadedModel
        do { loaded = try ModelFile.load(URL(argument: model)) } catch { throw fail(error) }
        let shapes = try InputShapeOption.parse(inputShapes)
        if let problem = InputShapeSpec.problem(shapes, for: loaded.graph, model: loaded.task) { throw fail(problem) }
        let summary = ModelSummary(loaded, inputShapes: shapes)
        if json {
            print(String(decoding: try ReportJSON.encode(summary), as: UTF8.self))
        } else {
            print(summary.text)
        }
    }
}
