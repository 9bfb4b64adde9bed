import Testing
@testable import PruneKit

/// Dependency analysis on graphs whose couplings are known by construction.
@Suite struct ChannelAnalysisTests {
    func group(_ groups: ChannelGroups, _ name: String) -> ChannelGroup? {
        groups.groups.first { $0.name == name }
    }

    func sites(_ groups: ChannelGroups, tensor: String) -> [ChannelSite] {
        groups.sites.filter { $0.tensor == tensor }
    }

    @Test func plainChainWithFlattenIntoLinear() throws {
        let g = ExampleArchitecture.vgg.build()
        let a = ChannelGroups.analyze(g)
        #expect(a.groups.map(\.name).sorted() == ["classifier.0", "classifier.2", "features.0", "features.4", "features.8", "input input"])
        for name in ["features.0", "features.4", "features.8", "classifier.0"] {
            #expect(group(a, name)?.prunable == true, "\(name)")
        }
        #expect(group(a, "features.0")?.size == 16)
        #expect(group(a, "classifier.2")?.prunable == false)
        #expect(group(a, "classifier.2")?.reason?.contains("graph output") == true)
        #expect(group(a, "input input")?.reason?.contains("graph input") == true)
        // features.8 ends at 4×4 after three poolings: channel c owns columns 16c ..< 16c + 16.
        let last = try #require(group(a, "features.8"))
        let consumer = try #require(sites(a, tensor: "classifier.0.weight").first { $0.role == .consumer })
        #expect(consumer.axis == 1 && consumer.channels.count == 1024)
        for c in [0, 5, 63] {
            #expect(consumer.channels[(16 * c)..<(16 * c + 16)].allSatisfy { $0 == last.channels[c] })
        }
        // BN of features.0 follows its channels, γ marked as the BN scale.
        let bn = sites(a, tensor: "features.1.weight")
        #expect(bn.count == 1 && bn[0].role == .bnScale && bn[0].channels == group(a, "features.0")!.channels)
        #expect(sites(a, tensor: "features.1.running_var").first?.role == .perChannel)
    }

    @Test func residualIdentityAndProjectionShortcuts() throws {
        let a = ChannelGroups.analyze(ExampleArchitecture.resnet.build())
        // The stem and the identity block's second conv share channel i through the add.
        let stage1 = try #require(group(a, "conv1+layer1.0.conv2"))
        #expect(stage1.prunable && stage1.size == 16 && stage1.producers == ["conv1", "layer1.0.conv2"])
        // The projection shortcut ties layer2.0.conv2 with downsample.0, not with the stem.
        let stage2 = try #require(group(a, "layer2.0.conv2+layer2.0.downsample.0"))
        #expect(stage2.prunable && stage2.size == 32)
        #expect(group(a, "layer1.0.conv1")?.size == 16)
        #expect(group(a, "layer2.0.conv1")?.size == 32)
        // Every tensor touched by stage 1: both producers, their BNs, and the three consumers.
        let touched = Set(a.sites.filter { $0.channels.contains(stage1.channels[0]) }.map(\.tensor))
        #expect(touched.isSuperset(of: ["conv1.weight", "bn1.weight", "layer1.0.conv2.weight", "layer1.0.bn2.running_mean",
                                        "layer1.0.conv1.weight", "layer2.0.conv1.weight", "layer2.0.downsample.0.weight"]))
    }

    @Test func twoBranchesIntoOneAdd() {
        var b = GraphBuilder(name: "branches", seed: 1)
        let x = b.input("x", shape: [1, 4, 8, 8])
        let stem = b.relu(b.conv(x, out: 6, kernel: 3, name: "stem"))
        let left = b.conv(stem, out: 8, kernel: 3, name: "left")
        let right = b.conv(stem, out: 8, kernel: 1, pad: 0, name: "right")
        let y = b.conv(b.relu(b.add(left, right)), out: 5, kernel: 3, name: "head")
        b.output(y)
        let a = ChannelGroups.analyze(b.graph)
        let merged = a.groups.first { $0.name == "left+right" }
        #expect(merged?.prunable == true && merged?.size == 8)
        #expect(a.groups.first { $0.name == "stem" }?.prunable == true)
        #expect(a.groups.first { $0.name == "head" }?.prunable == false)
    }

    @Test func concatKeepsEachBranchAsItsOwnGroupAtItsOffset() throws {
        let a = ChannelGroups.analyze(ExampleArchitecture.concat.build())
        let left = try #require(group(a, "branch1")), right = try #require(group(a, "branch2"))
        #expect(left.size == 8 && right.size == 12 && left.prunable && right.prunable)
        let consumer = try #require(sites(a, tensor: "mix.weight").first { $0.role == .consumer })
        #expect(Array(consumer.channels[0..<8]) == left.channels)
        #expect(Array(consumer.channels[8..<20]) == right.channels)
    }

    @Test func depthwiseConvFollowsItsInputChannels() throws {
        let a = ChannelGroups.analyze(ExampleArchitecture.depthwise.build())
        let stem = try #require(group(a, "stem.0"))
        #expect(stem.prunable && stem.size == 16)
        // The depthwise conv is no producer: its weight rows are the stem's channels.
        let dw = try #require(sites(a, tensor: "blocks.0.dw.weight").first)
        #expect(dw.axis == 0 && dw.channels == stem.channels)
        #expect(a.depthwiseConvs.count == 2)
        #expect(!a.groups.contains { $0.name.contains("dw") })
    }

    @Test func groupedConvCouplesTheSameInGroupIndex() throws {
        var b = GraphBuilder(name: "grouped", seed: 2)
        let x = b.input("x", shape: [1, 3, 8, 8])
        let h = b.relu(b.conv(x, out: 8, kernel: 3, name: "a"))
        let y = b.relu(b.conv(h, out: 12, kernel: 3, group: 2, name: "g"))
        b.output(b.conv(y, out: 4, kernel: 1, pad: 0, name: "out"))
        let a = ChannelGroups.analyze(b.graph)
        // 8 input channels in 2 groups of 4: index j of both groups is one channel.
        let inGroup = try #require(group(a, "a"))
        #expect(inGroup.size == 4 && inGroup.prunable)
        let w = try #require(sites(a, tensor: "a.weight").first { $0.role == .producer })
        #expect(w.channels[0] == w.channels[4] && w.channels[3] == w.channels[7] && w.channels[0] != w.channels[1])
        let outGroup = try #require(group(a, "g"))
        #expect(outGroup.size == 6)
        let gw = try #require(sites(a, tensor: "g.weight").first { $0.role == .producer })
        #expect(gw.channels[0] == gw.channels[6] && gw.channels[5] == gw.channels[11])
    }

    @Test func globalPoolFlattenGemmMapsOneColumnPerChannel() throws {
        let a = ChannelGroups.analyze(ExampleArchitecture.resnet.build())
        let stage2 = try #require(group(a, "layer2.0.conv2+layer2.0.downsample.0"))
        let fc = try #require(sites(a, tensor: "fc.weight").first { $0.role == .consumer })
        #expect(fc.channels == stage2.channels)
    }

    @Test func foldedBatchNormConvWithBias() throws {
        // PyTorch's default export folds BN into the conv: a conv with bias and no BN node.
        var b = GraphBuilder(name: "folded", seed: 3)
        let x = b.input("x", shape: [1, 3, 8, 8])
        let h = b.relu(b.conv(x, out: 6, kernel: 3, bias: true, name: "c1"))
        b.output(b.conv(h, out: 2, kernel: 3, name: "c2"))
        let a = ChannelGroups.analyze(b.graph)
        let c1 = try #require(group(a, "c1"))
        #expect(c1.prunable)
        #expect(sites(a, tensor: "c1.bias").map(\.role) == [.perChannel])
        #expect(sites(a, tensor: "c1.bias").first?.channels == c1.channels)
    }

    @Test func unknownOpPinsItsChannelsAndTheRestStillPrune() {
        var b = GraphBuilder(name: "unknown", seed: 4)
        let x = b.input("x", shape: [1, 3, 8, 8])
        let h1 = b.relu(b.conv(x, out: 6, kernel: 3, name: "c1"))
        let h2 = b.relu(b.conv(h1, out: 7, kernel: 3, name: "c2"))
        let odd = b.node("FancyNorm", [h2], outputShape: [1, 7, 8, 8], domain: "com.example")
        let h3 = b.relu(b.conv(odd, out: 5, kernel: 3, name: "c3"))
        b.output(b.conv(h3, out: 2, kernel: 1, pad: 0, name: "c4"))
        let a = ChannelGroups.analyze(b.graph)
        let c2 = a.groups.first { $0.name == "c2" }
        #expect(c2?.prunable == false)
        #expect(c2?.reason?.contains("com.example.FancyNorm") == true)
        #expect(a.groups.first { $0.name == "c1" }?.prunable == true)
        #expect(a.groups.first { $0.name == "c3" }?.prunable == true)
    }

    @Test func addOfConstantPerChannelTensorBecomesASite() {
        var b = GraphBuilder(name: "bias", seed: 5)
        let x = b.input("x", shape: [1, 3, 8, 8])
        let h = b.conv(x, out: 4, kernel: 3, bias: false, name: "c1")
        let shift = b.constant("shift", Tensor(shape: [4, 1, 1], floats: [1, 2, 3, 4]))
        b.output(b.conv(b.relu(b.add(h, shift)), out: 2, kernel: 1, pad: 0, name: "c2"))
        let a = ChannelGroups.analyze(b.graph)
        let site = a.sites.first { $0.tensor == "shift" }
        #expect(site?.axis == 0 && site?.channels == a.groups.first { $0.name == "c1" }?.channels)
    }
}

@Suite struct ReduceAnalysisTests {
    func net(axes: [Int64], keepdims: Int) -> Graph {
        var b = GraphBuilder(name: "reduce", seed: 1)
        let x = b.input("x", shape: [1, 3, 8, 8])
        let h = b.relu(b.conv(x, out: 6, kernel: 3, name: "c1"))
        let a = b.constant("axes", Tensor(shape: [axes.count], int64s: axes))
        let outShape = keepdims == 1 ? [1, axes.contains(1) ? 1 : 6, 1, 1] : (axes.contains(1) ? [1, 1] : [1, 6])
        var m = b.node("ReduceMean", [h, a], outputShape: outShape, attributes: [Attribute("keepdims", .int(keepdims))])
        if keepdims == 1 { m = b.flatten(m) }
        b.output(b.linear(m, out: 2, name: "fc"))
        return b.graph
    }

    @Test func spatialMeanKeepsChannelsPrunable() {
        // PyTorch's dynamo export writes adaptive_avg_pool2d(x, 1) as ReduceMean over [-1, -2].
        for keep in [0, 1] {
            let a = ChannelGroups.analyze(net(axes: [-1, -2], keepdims: keep))
            #expect(a.groups.first { $0.name == "c1" }?.prunable == true, "keepdims \(keep)")
            #expect(a.sites.contains { $0.tensor == "fc.weight" && $0.role == .consumer })
        }
    }

    @Test func meanOverChannelsPinsThem() {
        let a = ChannelGroups.analyze(net(axes: [1, 2, 3], keepdims: 1))
        #expect(a.groups.first { $0.name == "c1" }?.reason?.contains("channel axis") == true)
    }
}
