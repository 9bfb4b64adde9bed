/// Re-estimates the running mean and variance of every BatchNormalization node from data,
/// with no gradients: after pruning, the channels a BN sees are sums over fewer inputs, and
/// its stored statistics no longer describe them (ALGORITHM.md §5, the cheap first step).
///
/// Exactly what PyTorch does with `momentum=None` over one pass of the data in training mode:
/// every BN normalizes each batch with that batch's own statistics (so later layers see what
/// training would show them), and its running mean and variance become the plain average over
/// batches of the batch mean and of the unbiased batch variance (a last batch of one sample
/// joins the one before: `BatchOrder.forTraining`).
public enum BatchNormRecalibration {
    /// The BN nodes of `model` and their new running statistics; `checkpoint` gets the fraction
    /// done between batches (and may throw to cancel).
    public static func recalibrate(_ model: inout ClassifierGraph, data: TrainingData, indices: [Int], batchSize: Int,
                                   checkpoint: (Double) throws -> Void = { _ in }) throws {
        let (probeGraph, probes) = try TrainingModeBatchNorm.rewrite(model.graph)
        guard !probes.isEmpty, !indices.isEmpty else { return }
        var probing = model
        probing.graph = probeGraph
        let fetch = probes.flatMap { [$0.meanValue, $0.varianceValue, $0.shapeValue] }
        var meanSums = probes.map { [Double](repeating: 0, count: $0.channels) }
        var varianceSums = meanSums
        let batches = BatchOrder.forTraining(BatchOrder.inOrder(indices, size: batchSize))
        for (b, batch) in batches.enumerated() {
            try checkpoint(Double(b) / Double(batches.count))
            let values = try probing.run(data.inputs(batch), fetching: fetch)
            for (p, probe) in probes.enumerated() {
                let shape = values[probe.shapeValue]!.storage.map { Int($0) }
                let count = shape.reduce(1, *) / max(probe.channels, 1)
                let unbias = count > 1 ? Double(count) / Double(count - 1) : 1
                let mean = values[probe.meanValue]!.storage
                let variance = values[probe.varianceValue]!.storage
                for c in 0..<probe.channels {
                    meanSums[p][c] += Double(mean[c])
                    varianceSums[p][c] += Double(variance[c]) * unbias
                }
            }
        }
        let n = Double(batches.count)
        for (p, probe) in probes.enumerated() {
            for (name, sums) in [(probe.runningMean, meanSums[p]), (probe.runningVariance, varianceSums[p])] {
                let dtype = model.graph.initializers[name]?.dtype ?? .f32
                model.graph.setInitializer(name, Tensor(shape: [probe.channels], floats: sums.map { Float($0 / n) }, dtype: dtype))
            }
        }
        try checkpoint(1)
    }
}
