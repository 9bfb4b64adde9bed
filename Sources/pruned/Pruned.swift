import ArgumentParser

@main
struct Pruned: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pruned",
        abstract: "Prune convolutional networks for real: ONNX and safetensors in, smaller models out.",
        discussion: """
            Exit codes: 0 success, 64 bad usage, 65 a model or data file that cannot be read, pruned or trained, \
            66 an input file that does not exist, 69 a CPU without the features the kernels are built \
            for, 73 an output that cannot be written.
            """,
        subcommands: [ServeCommand.self, PruneCommand.self, TrainCommand.self, InspectCommand.self, RunCommand.self, ExampleModelCommand.self]
    )

    /// Checks the CPU before anything runs PruneKit's code (built for a raised x86-64 level).
    static func main() async {
        CPUCheck.requireKernelFeatures()
        await main(nil)
    }
}
