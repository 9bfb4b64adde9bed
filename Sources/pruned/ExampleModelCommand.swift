import ArgumentParser
import Foundation
import PruneKit

struct ExampleModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "example-model",
        abstract: "Write a small example network with seeded random weights, to try pruned without a model of your own.",
        discussion: """
            vgg: conv-BN-ReLU stages, flatten into two linear layers. resnet: identity and projection \
            shortcuts. concat: two branches concatenated. depthwise: MobileNet-style separable blocks. \
            The format follows the extension of FILE (.onnx or .safetensors).
            """
    )

    @Option(help: "Architecture: \(ExampleArchitecture.allCases.map(\.rawValue).joined(separator: ", ")).")
    var arch: ExampleArchitecture

    @Option(help: "Output file (.onnx or .safetensors).")
    var out: String

    @Option(help: "Seed of the random weights.")
    var seed: UInt64 = 0

    @Option(name: .customLong("input-size"), help: "Height and width of the input image.")
    var inputSize: Int = 32

    func validate() throws {
        guard ModelFormat(path: out) != nil else { throw ValidationError("--out must end in .onnx or .safetensors") }
        guard inputSize >= 8 else { throw ValidationError("--input-size must be at least 8") }
    }

    func run() throws {
        let graph = arch.build(seed: seed, inputSize: inputSize)
        do {
            try ModelFile.write(graph, format: ModelFormat(path: out)!, to: URL(argument: out))
        } catch {
            throw fail(error)
        }
        print("wrote \(out) (\(arch.rawValue), \(ModelStats(graph: graph, shapes: ShapeInference(graph: graph)).params) parameters)")
    }
}

extension ExampleArchitecture: ExpressibleByArgument {}
