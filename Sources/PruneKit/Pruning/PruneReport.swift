/// `report.json`: what was pruned, by how much, and why the rest was not.
public struct PruneReport: Sendable, Codable {
    public var tool = "pruned"
    public var method: String
    /// Fraction of each prunable group's channels removed, when pre-specified.
    public var rate: Double?
    /// Adaptive, a pre-specified rate or a budget, in words (`rate 0.3`, `budget params=0.4`).
    public var target: String
    /// One per task, in the order the models came.
    public var models: [ModelReport]
    /// The search, the chosen solution and why, and storage before and after sharing.
    public var mfis: MFISReport
    /// Wall time per stage (load, analyze, criteria, optimize, merge, surgery, banks, write;
    /// with data evaluate, recalibrate, finetune).
    public var seconds: [String: Double]
    /// The recipe of the data stages, when a data file was given.
    public var training: TrainingOptions?

    public init(method: String, target: MFISOptions.Target, models: [ModelReport], mfis: MFISReport, seconds: [String: Double]) {
        self.method = method
        self.rate = target.rate
        self.target = target.description
        self.models = models
        self.mfis = mfis
        self.seconds = seconds
    }
}

public struct ModelReport: Sendable, Codable {
    /// The model's file name without extension: the task it serves.
    public var task: String
    public var source: String
    public var outputs: [String] = []
    public var before: ModelStats
    public var after: ModelStats
    /// New output width of every conv / linear layer, by PyTorch module name where the
    /// weights carry one (`features.0.weight` → `features.0`), so the module can be rebuilt.
    public var channels: [String: Int]
    public var groups: [GroupReport]
    /// Accuracy and loss on the held-out split before and after each step, when data was given.
    public var accuracy: AccuracyReport?
    /// What bias compensation at surgery did (absent when it was off).
    public var biasCompensation: BiasCompensation?
}

public struct GroupReport: Sendable, Codable, Equatable {
    public var name: String
    public var producers: [String]
    public var total: Int
    public var kept: Int
    public var prunable: Bool
    public var reason: String?
    /// Channel indices removed (in the first producer's numbering).
    public var removed: [Int]
}

extension Graph {
    /// Output width of every conv / gemm / matmul, keyed by module name: the weight's name less
    /// `.weight`, else the module path in the node's scope name, else the node's name.
    public func layerWidths() -> [String: Int] {
        var widths: [String: Int] = [:]
        for node in nodes where ["Conv", "Gemm", "MatMul"].contains(node.opType) && node.inputs.count > 1 {
            let wName = node.inputs[1]
            guard let w = initializers[wName], w.rank >= 2 else { continue }
            let key = wName.hasSuffix(".weight") ? String(wName.dropLast(7)) : Self.modulePath(scope: node.label) ?? node.label
            switch node.opType {
            case "Conv": widths[key] = w.shape[0]
            case "Gemm": widths[key] = node.int("transB") == 1 ? w.shape[0] : w.shape[1]
            default: widths[key] = w.shape[1]
            }
        }
        return widths
    }

    /// The module path in a node name of `torch.onnx.export`'s TorchScript exporter, whose
    /// BN-folded weights are `onnx::Conv_N`: `/layer2/layer2.0/downsample/downsample.0/Conv` is
    /// `layer2.0.downsample.0`. Each scope is an attribute of the one before, or, inside an
    /// `nn.Sequential`, that Sequential's name and the index (`layer2.0`). nil for other names.
    static func modulePath(scope: String) -> String? {
        let parts = scope.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count >= 3, parts[0].isEmpty, parts.dropFirst().allSatisfy({ !$0.isEmpty }) else { return nil }
        var path = "", previous = ""
        for part in parts.dropFirst().dropLast() {
            if !previous.isEmpty && part.hasPrefix(previous + ".") { path += part.dropFirst(previous.count) } else { path += (path.isEmpty ? "" : ".") + part }
            previous = String(part)
        }
        return path
    }
}
