import Testing
@testable import PruneKit

/// report.json's `channels` keys a layer by its PyTorch module name, which rebuilds the module.
@Suite struct LayerWidthsTests {
    /// The weight's name when it carries one; else the legacy exporter's node scope
    /// (`/layer2/layer2.0/downsample/downsample.0/Conv`), whose BN-folded weights are `onnx::Conv_N`.
    @Test func moduleNamesFromWeightsOrFromTheExportersScopes() throws {
        var graph = ExampleArchitecture.vgg.build(seed: 1, inputSize: 12)
        let scopes = ["/features/features.0/Conv", "/layer2/layer2.0/downsample/downsample.0/Conv", "/layer1/layer1.0/conv1/Conv"]
        let convs = graph.nodes.indices.filter { graph.nodes[$0].opType == "Conv" }
        try #require(convs.count == scopes.count)
        for (k, (i, scope)) in zip(convs, scopes).enumerated() {
            let weight = graph.nodes[i].inputs[1]
            graph.setInitializer("onnx::Conv_\(k)", try #require(graph.initializers[weight]))
            graph.removeInitializer(weight)
            graph.nodes[i].inputs[1] = "onnx::Conv_\(k)"
            graph.nodes[i].name = scope
        }
        #expect(graph.layerWidths() == ["features.0": 16, "layer2.0.downsample.0": 32, "layer1.0.conv1": 64, "classifier.0": 64, "classifier.2": 10])
        // A node name that is no scope path stays as it is.
        graph.nodes[convs[0]].name = "node_Conv_78"
        #expect(graph.layerWidths()["node_Conv_78"] != nil)
    }
}
