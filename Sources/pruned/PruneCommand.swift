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

            With --data (safetensors: 'input' N×C×H×W, 'label' N class indices or one 'label.<task>' \
            per model; a model without labels distils from its unpruned self), 10% of the samples (seeded) \
            are held out. The data scores the channels (criterion activation, the default with data) and \
            picks, of the --candidates members of the search's front put forward, the one with the \
            lowest held-out loss after recalibration — or, within --accuracy-margin points of its \
            mean accuracy, the one storing least. Each model is scored before and after pruning, its BN running \
            statistics are re-estimated on the rest (BN folded into convs at export is given back for \
            this, targeting each channel's unpruned mean and variance, and folded in again after), \
            it is fine-tuned for \
            --finetune-epochs epochs (SGD with momentum and weight decay, cosine schedule), and \
            scored after each step in report.json. The weights written are the fine-tuned ones.

            Examples:  pruned prune net.onnx --rate 0.3 --out out/
                       pruned prune net.onnx --rate 0.3 --data train.safetensors --finetune-epochs 5 --out out/
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

    @Option(help: "Criteria, comma-separated, from magnitude, irreplaceability, shareability, and with --data activation (each channel's activation spread on the data times its readers' weights: it replaces magnitude in the per-task objective, or joins it, the mean of the two, when both are named). Default magnitude,irreplaceability,shareability; with --data activation,irreplaceability,shareability.")
    var criteria: String?

    @Flag(name: .customLong("no-sharing"), help: "Prune each model on its own: no shared filters, no folding of near-twin filters.")
    var noSharing = false

    @Flag(inversion: .prefixedNo, help: "Fold removed channels' constant outputs (bias through ReLU/BN) into the next layers' biases.")
    var biasCompensation = false

    @Option(help: ArgumentHelp("What magnitude measures: producer (L1 of the filter, times |BN γ|), producer-consumer (times the L1 of the next layers' weights for the channel) or consumer (the L1 of the next layers' weights for the channel alone, BN folded).", visibility: .hidden))
    var magnitude: String = MFISOptions.MagnitudeScore.consumer.rawValue

    @Option(help: ArgumentHelp("What irreplaceability (FPGM) compares channels by: producer (the filters) or consumer (the next layers' weights for each channel, BN folded).", visibility: .hidden))
    var irreplaceability: String = MFISOptions.IrreplaceabilityRows.consumer.rawValue

    @Option(help: "Seed of the optimizer (and, with --data, of the held-out split and the batch order): the same seed gives the same result.")
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

    @Option(name: .customLong("input-shape"), help: ArgumentHelp(InputShapeOption.help))
    var inputShapes: [String] = []

    @Option(help: "Data file (.safetensors) to score, recalibrate and fine-tune with.")
    var data: String?

    @Option(name: .customLong("finetune-epochs"), help: "Fine-tuning epochs after recalibration (needs --data).")
    var finetuneEpochs: Int = 0

    @Flag(name: .customLong("no-recalibration"), help: ArgumentHelp("With --data: skip recalibration (no BN given back or re-estimated), to measure pruning alone.", visibility: .hidden))
    var noRecalibration = false

    @Option(name: .customLong("audit-candidates"), help: ArgumentHelp("With --data and several candidates: also score every candidate, after its recalibration, on all samples of this file (labels as in --data), into report.json mfis.candidates[].auditAccuracy — to study the choice against a test set it never sees.", valueName: "FILE", visibility: .hidden))
    var auditCandidates: String?

    @Option(help: ArgumentHelp("With --data: recalibrate and score this many members of the final front (the default pick, the knee or nearest-ideal point, the least-losing member at each of several storage levels, each objective's extreme); 1 keeps the default pick. Default 8, or 1 with --finetune-epochs above 0 (measured: after fine-tuning the default pick did as well and shares more). Ignored without --data.", valueName: "K"))
    var candidates: Int?

    @Option(name: .customLong("accuracy-margin"), help: ArgumentHelp("With --data, several candidates and several models (one model has nothing to share and keeps the lowest loss): the mean accuracy (percentage points, on the scored samples) a candidate storing less may lose against the lowest-loss one and still be kept instead; of those, the one storing least is kept. 0 keeps the lowest loss.", valueName: "POINTS"))
    var accuracyMargin: Double = MFISOptions.defaultAccuracyMargin

    @OptionGroup(title: "Training recipe (with --data)")
    var recipe: RecipeOptions

    func validate() throws {
        _ = try options()
        try RecipeOptions.validate(recipe.training(epochs: finetuneEpochs, seed: seed), epochsFlag: "--finetune-epochs")
        if finetuneEpochs > 0 && data == nil { throw ValidationError("--finetune-epochs needs --data") }
        if let needs = try options().criteria.sorted().first(where: \.needsData), data == nil {
            throw ValidationError("--criteria: \(needs.rawValue) is measured on calibration data; give --data")
        }
        for m in models where ModelFormat(path: m) == nil {
            throw ValidationError("\(m): expected a .onnx or .safetensors file")
        }
        let tasks = models.map { URL(argument: $0).deletingPathExtension().lastPathComponent }
        if let twice = tasks.enumerated().first(where: { i, t in tasks[..<i].contains(t) })?.element {
            throw ValidationError("two models are named '\(twice)': the file name without its extension names the task and its output file")
        }
        _ = try parsedInputShapes()
    }

    /// The value of a hidden enumerated flag, or an error naming the values it takes.
    func choice<E: RawRepresentable & CaseIterable>(_ value: String, flag: String, of: E.Type) throws -> E where E.RawValue == String {
        guard let e = E(rawValue: value) else {
            throw ValidationError("--\(flag): '\(value)' is not one of \(E.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return e
    }

    func options() throws -> MFISOptions {
        do {
            let options = MFISOptions(target: try MFISOptions.target(rate: rate, budget: budget),
                                      criteria: try criteria.map(MFISOptions.parseCriteria) ?? MFISOptions.Criterion.defaults(withData: data != nil), sharing: !noSharing,
                                      seed: seed, generations: generations, population: population, roundTo: roundTo,
                                      biasCompensation: biasCompensation,
                                      magnitudeScore: try choice(magnitude, flag: "magnitude", of: MFISOptions.MagnitudeScore.self),
                                      irreplaceabilityRows: try choice(irreplaceability, flag: "irreplaceability", of: MFISOptions.IrreplaceabilityRows.self),
                                      candidates: candidates, accuracyMargin: accuracyMargin)
            if let problem = options.problem() { throw ValidationError("--\(flag(problem.field)): \(problem.message)") }
            return options
        } catch let e as MFISOptions.SpellingError {
            throw ValidationError("--\(flag(e.field)): \(e.message)")
        }
    }

    /// The command-line spelling of an option's field name (roundTo → round-to).
    private func flag(_ field: String) -> String {
        String(field.flatMap { $0.isUppercase ? ["-", Character($0.lowercased())] : [$0] })
    }

    func parsedInputShapes() throws -> [String: [Int]] { try InputShapeOption.parse(inputShapes) }

    func run() throws {
        var settings = PruningPipeline.Options(mfis: try options(), format: format, inputShapes: try parsedInputShapes(),
                                               data: data.map(URL.init(argument:)), training: recipe.training(epochs: finetuneEpochs, seed: seed))
        settings.recalibrate = !noRecalibration
        settings.candidateAudit = auditCandidates.map(URL.init(argument:))
        let pipeline = PruningPipeline(options: settings)
        do {
            let report = try pipeline.run(models: models.map(URL.init(argument:)), outputDirectory: URL(argument: out))
            for m in report.models {
                let pct = m.before.params > 0 ? 100 * Double(m.after.params) / Double(m.before.params) : 100
                print("\(m.task): params \(m.before.params) -> \(m.after.params) (\(String(format: "%.1f", pct))%), wrote \(m.outputs.joined(separator: ", "))")
                if let a = m.accuracy { print(a.summaryLine) }
                if let pinned = m.pinnedSummary { print(pinned) }
            }
            if report.models.count >= 2, report.mfis.bundleOmitted == nil {
                let s = report.mfis.storage
                print("bundle: \(s.afterSharing) values stored (parameters and BN statistics) for \(s.beforeSharing) in the pruned models apart (\(String(format: "%.1f", 100 * Double(s.afterSharing) / Double(max(1, s.beforeSharing))))%), wrote multitask.safetensors, index.json")
            }
            print("chosen: \(report.mfis.chosen.reason)")
            print("report: \(URL(argument: out).appendingPathComponent("report.json").path)")
        } catch {
            throw fail(error)
        }
    }
}

extension PruningPipeline.OutputFormat: ExpressibleByArgument {}

extension ModelReport {
    /// `  not pruned: 1 of 7 channel groups (1 × op 'ThresholdedRelu' of node 'relu_3' is not one the analysis
    /// knows); see report.json groups`: groups pinned by something
    /// other than the network's own input and output, which a user may have expected pruned.
    var pinnedSummary: String? {
        let pinned = groups.filter { !$0.prunable && !ChannelGroup.isBoundary(reason: $0.reason ?? "") }
        guard !pinned.isEmpty else { return nil }
        let counts = Dictionary(grouping: pinned, by: { $0.reason ?? "unknown" }).map { ($0.key, $0.value.count) }
            .sorted { ($1.1, $0.0) < ($0.1, $1.0) }
        let shown = counts.prefix(3).map { "\($0.1) × \($0.0)" } + (counts.count > 3 ? ["..."] : [])
        return "  not pruned: \(pinned.count) of \(groups.count) channel groups (\(shown.joined(separator: "; "))); see report.json groups"
    }
}

extension AccuracyReport {
    /// `held-out accuracy: 0.985 before, 0.612 pruned, 0.903 recalibrated, 0.979 fine-tuned`.
    var summaryLine: String {
        let steps: [(String, ClassifierScore?)] = [("before", beforePruning), ("pruned", afterPruning),
                                                   ("recalibrated", afterRecalibration), ("fine-tuned", afterFineTuning)]
        let parts = steps.compactMap { name, s in s.map { "\(String(format: "%.3f", $0.accuracy)) \(name) (loss \(String(format: "%.3f", $0.loss)))" } }
        return "  held-out accuracy (\(heldOutSamples) samples, \(labels)): " + parts.joined(separator: ", ")
    }
}
