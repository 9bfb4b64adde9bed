import ArgumentParser

/// Benchmarks of PruneKit's parts against published figures and other tools; one subcommand
/// per benchmark.
struct PrunedBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pruned-bench",
        abstract: "Benchmarks of pruned's engine.",
        subcommands: [DTLZBenchmark.self, GEMMBenchmark.self, ConvBenchmark.self, PeakBenchmark.self, BackwardBenchmark.self]
    )
}

PrunedBench.main()
