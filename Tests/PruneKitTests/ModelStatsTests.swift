import Foundation
import Testing
@testable import PruneKit

/// Parameters as PyTorch's `parameters()` counts them; stored values as the file holds them.
@Suite struct ModelStatsTests {
    /// conv 2→3, 3×3, no bias; BN over 3 channels; linear 3·4·4 → 5.
    static func convBNLinear() -> Graph {
        var b = GraphBuilder(name: "net", seed: 1)
        let x = b.input("input", shape: [1, 2, 4, 4])
        let h = b.relu(b.batchNorm(b.conv(x, out: 3, kernel: 3, bias: false, name: "conv"), name: "bn"))
        b.output(b.linear(b.flatten(h), out: 5, name: "fc"))
        return b.graph
    }

    @Test func batchNormRunningStatisticsAreStoredButAreNotParameters() {
        let g = Self.convBNLinear()
        #expect(g.batchNormRunningStatistics == ["bn.running_mean", "bn.running_var"])
        let stats = ModelStats(graph: g, shapes: ShapeInference(graph: g))
        let conv = 3 * 2 * 9, bnAffine = 3 + 3, running = 3 + 3, fc = 5 * 48 + 5
        #expect(stats.params == conv + bnAffine + fc)
        #expect(stats.stored == conv + bnAffine + running + fc)
        // MACs: conv 3·4·4 outputs × 18 reads, fc 5 × 48.
        #expect(stats.macs == 48 * 18 + 5 * 48)
    }

    @Test func inspectListsTheBatchNormLayerWithItsTwoLearnedVectors() {
        let summary = ModelSummary(LoadedModel(task: "net", format: .onnx, graph: Self.convBNLinear(), metadata: [:]))
        #expect(summary.layers.first { $0.op == "BatchNormalization" }?.params == 6)
        #expect(summary.stats.params == summary.layers.reduce(0) { $0 + $1.params })
    }

    @Test func aReportWrittenBeforeStoredExistedReadsStoredAsParams() throws {
        let old = #"{"params": 12, "macs": 40, "flops": 80}"#
        let stats = try JSONDecoder().decode(ModelStats.self, from: Data(old.utf8))
        #expect(stats == ModelStats(params: 12, stored: 12, macs: 40))
        let again = try JSONDecoder().decode(ModelStats.self, from: JSONEncoder().encode(ModelStats(params: 12, stored: 18, macs: nil)))
        #expect(again.stored == 18 && again.params == 12 && again.macs == nil)
    }
}
