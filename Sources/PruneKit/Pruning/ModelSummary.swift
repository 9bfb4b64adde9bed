/// What `pruned inspect` shows: layers, channel groups, what is prunable and why, size and cost.
public struct ModelSummary: Sendable, Codable {
    public struct Layer: Sendable, Codable {
        public var name: String
        public var op: String
        public var output: [Int]?
        public var params: Int
    }

    public var task: String
    public var format: ModelFormat
    public var stats: ModelStats
    public var layers: [Layer]
    public var groups: [GroupReport]
    /// Why FLOPs could not be counted (absent when they were): a data input whose shape is not
    /// fixed past the batch, or the first layer whose output shape is unknown (an op shape
    /// inference does not know).
    public var flopsUnknown: String?

    /// `inputShapes`: shapes for data inputs the export left symbolic, by name (`--input-shape`).
    public init(_ model: LoadedModel, inputShapes: [String: [Int]] = [:]) {
        let graph = model.graph.constantsAsInitializers()  // as the pruner sees it
        let shapes = ShapeInference(graph: graph, inputShapes: inputShapes)
        let analysis = ChannelGroups.analyze(graph, shapes: shapes)
        task = model.task
        format = model.format
        stats = ModelStats(graph: graph, shapes: shapes)
        let running = graph.batchNormRunningStatistics
        layers = graph.nodes.filter { !["Constant", "Shape", "Gather", "Unsqueeze", "Squeeze", "Slice", "Cast"].contains($0.opType) }.map { node in
            let parameters = node.inputs.filter { !running.contains($0) }.compactMap { graph.initializers[$0] }
            return Layer(name: node.label, op: node.opType, output: node.outputs.first.flatMap { shapes.shape($0) },
                         params: parameters.filter { $0.dtype.isFloatingPoint }.reduce(0) { $0 + $1.count })
        }
        groups = analysis.groups.map {
            GroupReport(name: $0.name, producers: $0.producers, total: $0.size, kept: $0.size, prunable: $0.prunable, reason: $0.reason, removed: [])
        }
        if stats.flops == nil {
            if let input = graph.dataInputs.first(where: { inputShapes[$0.name] == nil && ($0.shape.map { $0.dropFirst().contains { $0.value == nil } } ?? true) }) {
                flopsUnknown = "input '\(input.name)' has no fixed shape" + (input.shape.map { ": [\($0.map(\.description).joined(separator: ", "))]" } ?? "")
            } else if let stop = layers.first(where: { $0.output == nil }) {
                flopsUnknown = "from layer '\(stop.name)' (\(stop.op)) on, no output shapes"
            }
        }
    }

    public var text: String {
        var lines = ["\(task) (\(format.rawValue)): \(stats.params) parameters, " + (stats.flops.map { "\($0) FLOPs per sample" } ?? "FLOPs unknown" + (flopsUnknown.map { " (\($0))" } ?? ""))]
        lines.append("")
        lines.append("layers:")
        for l in layers {
            lines.append("  \(l.name.padding(toLength: 28, withPad: " ", startingAt: 0)) \(l.op.padding(toLength: 20, withPad: " ", startingAt: 0)) \(l.output.map { "\($0)" } ?? "?")  \(l.params > 0 ? "\(l.params) params" : "")")
        }
        lines.append("")
        let prunable = groups.filter(\.prunable)
        lines.append("channel groups: \(groups.count), prunable: \(prunable.count) (\(prunable.reduce(0) { $0 + $1.total }) channels)")
        for g in groups {
            lines.append("  \(g.prunable ? "prunable" : "pinned  ") \(String(g.total).padding(toLength: 5, withPad: " ", startingAt: 0)) \(g.name)" + (g.reason.map { "  — \($0)" } ?? ""))
        }
        return lines.joined(separator: "\n")
    }
}
