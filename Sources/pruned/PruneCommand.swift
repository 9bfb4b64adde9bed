import ArgumentParser
import Foundation
import PruneKit

struct PruneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Prune one model, or several task models of one backbone together (MFIS), and write the smaller models.",
        discussion: """
            Each MODEL (.onnx, or .safetensors of a plain sequential PyTorch state_dict) is analyzed \
            into channel groups (channels that must go together: residual adds, concat, grouped and \
            depthwise convs, flatten into linear). NSGA-III then chooses which filters each model \
            keeps, with magnitude and irreplaceability lost per task and the stored size as \
            objectives. Several models make one multi-task job: they must share a backbone, and \
            filters they keep alike become one shared filter. Writes DIR/<name>.<format> per model, \
            DIR/report.json, and for several models DIR/multitask.safetensors + DIR/index.json.

            Examples:  pruned prune net.onnx --rate 0.3 --out out/
                       pruned prune a.onnx b.onnx c.onnx --budget params=0.4 --out out/
                       pruned prune net.onnx --rate adaptive --out out/
            """
    )

    @Argument(help: "Model files (.onnx or .safetensors); the output for x.onnx is DIR/x.onnx.")
    var models: [String]

    @Option(help: "Fraction of each prunable group's channels to remove, in [0, 1), or 'adaptive' (the optimizer picks per-group rates; the knee of the front is taken). Default 0.3 unless --budget is given.")
    var rate: String?

    @Option(help: "Global budget instead of a rate: params=F or flops=F keeps at most the fraction F of each model's parameters (FLOPs).")
    var budget: String?

    @Option(help: "Criteria, comma-separated, from magnitude, irreplaceability, shareability.")
    var criteria: String = "magnitude,irreplaceability,shareability"

    @Flag(name: .customLong("no-sharing"), help: "Prune each model on its own: no shared filters, no folding of near-twin filters.")
    var noSharing = false

    @Option(help: "Seed of the optimizer: the same seed gives the same result.")
    var seed: UInt64 = 0

    @Option(help: "Optimizer generations.")
    var generations: Int = 100

    @Option(help: "Optimizer population (default: from the number of objectives, as Deb & Jain 2014).")
    var population: Int?

    @Option(name: .customLong("round-to"), help: "Keep channel counts that are multiples of this.")
    var roundTo: Int = 1

    @Option(help: "Output folder (created if missing).")
    var out: String

    @Option(help: "Output format: same (as the input), onnx, safetensors or both.")
    var format: PruningPipeline.OutputFormat = .same

    @Option(name: .customLong("input-shape"), help: "Shape of a graph input whose declared shape is symbolic, e.g. input=1x3x224x224 (repeatable).")
    var inputShapes: [String] = []

    func validate() throws {
        _ = try options()
        for m in models where ModelFormat(path: m) == nil {
            throw ValidationError("\(m): expected a .onnx or .safetensors file")
        }
        _ = try parsedInputShapes()
    }

    func options() throws -> MFISOptions {
        do {
            let options = MFISOptions(target: try MFISOptions.target(rate: rate, budget: budget),
                                      criteria: try MFISOptions.parseCriteria(criteria), sharing: !noSharing,
                                      seed: seed, generations: generations, population: population, roundTo: roundTo)
            if let problem = options.problem() { throw ValidationError("--\(flag(problem.field)): \(problem.message)") }
            return options
        } catch let e as MFISOptions.SpellingError {
            throw ValidationError("--\(flag(e.field)): \(e.message)")
        }
    }

    private func flag(_ field: String) -> String { field == "roundTo" ? "round-to" : field }

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
        let pipeline = PruningPipeline(options: .init(mfis: try options(), format: format, inputShapes: try parsedInputShapes()))
        do {
            let report = try pipeline.run(models: models.map(URL.init(argument:)), outputDirectory: URL(argument: out))
            for m in report.models {
                let pct = m.before.params > 0 ? 100 * Double(m.after.params) / Double(m.before.params) : 100
                print("\(m.task): params \(m.before.params) -> \(m.after.params) (\(String(format: "%.1f", pct))%), wrote \(m.outputs.joined(separator: ", "))")
            }
            if report.models.count >= 2 {
                let s = report.mfis.storage
                print("bundle: \(s.afterSharing) parameters stored for \(s.beforeSharing) in the pruned models apart (\(String(format: "%.1f", 100 * Double(s.afterSharing) / Double(max(1, s.beforeSharing))))%), wrote multitask.safetensors, index.json")
            }
            print("chosen: \(report.mfis.chosen.reason)")
            print("report: \(URL(argument: out).appendingPathComponent("report.json").path)")
        } catch {
            throw fail(error)
        }
    }
}

extension PruningPipeline.OutputFormat: ExpressibleByArgument {}
