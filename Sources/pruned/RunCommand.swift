import ArgumentParser
import Foundation
import PruneKit

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a model's forward pass on inputs from a safetensors file (to compare with onnxruntime).",
        discussion: """
            INPUT holds one tensor per graph input, under the input's name. The graph outputs are \
            written to OUT as F32 tensors under their names.

            Example:  pruned run out/net.onnx --input x.safetensors --out y.safetensors
            """
    )

    @Argument(help: "Model file (.onnx).")
    var model: String

    @Option(help: "safetensors file with the graph inputs.")
    var input: String

    @Option(help: "safetensors file to write the graph outputs to.")
    var out: String

    func validate() throws {
        guard ModelFormat(path: model) == .onnx else { throw ValidationError("\(model): the forward pass needs an .onnx model (a graph)") }
    }

    func run() throws {
        do {
            let graph = try ModelFile.load(URL(argument: model)).graph
            let inputs = try SafeTensorsFile.read(contentsOf: URL(argument: input))
            let outputs = try Interpreter().run(graph, inputs: Dictionary(uniqueKeysWithValues: inputs.tensors.map { ($0.name, $0.tensor) }))
            let file = SafeTensorsFile(tensors: graph.outputs.compactMap { o in outputs[o.name].map { .init(o.name, $0) } })
            try file.write(to: URL(argument: out))
        } catch {
            throw fail(error)
        }
    }
}
