import Testing
@testable import PruneKit

@Suite struct SurgeryTests {
    @Test(arguments: ExampleArchitecture.allCases)
    func removingNothingGivesBackTheSameBytes(arch: ExampleArchitecture) throws {
        let g = arch.build(seed: 7)
        let groups = ChannelGroups.analyze(g)
        let same = try g.removingChannels([:], groups: groups)
        #expect(same == g)
        let empty = try g.removingChannels(Dictionary(uniqueKeysWithValues: groups.groups.map { ($0.id, [Int]()) }), groups: groups)
        #expect(empty.initializers == g.initializers)
        // The whole path a user takes at rate 0: selection, surgery and both writers.
        let pruned = try MagnitudePruner(rate: 0).prune(g, task: arch.rawValue, source: "").graph
        let onnx = try ONNXFile.read(ONNXFile.write(pruned))
        #expect(onnx.initializers == g.initializers)
        let st = try SafeTensorsFile.read(SafeTensorsFile(tensors: pruned.orderedInitializers.map { .init($0.name, $0.tensor) }).serialized())
        #expect(st.tensors.map(\.name) == g.orderedInitializers.map(\.name))
        #expect(st.tensors.map(\.tensor.data) == g.orderedInitializers.map(\.tensor.data))
    }

    @Test func residualNetAtHalfRateHasTheExpectedShapes() throws {
        let g = ExampleArchitecture.resnet.build()
        let result = try MagnitudePruner(rate: 0.5).prune(g, task: "resnet", source: "resnet.onnx")
        let p = result.graph
        // Stage 1 (stem + identity block) 16 → 8, block convs 16 → 8 and 32 → 16, stage 2 32 → 16.
        #expect(p.initializers["conv1.weight"]?.shape == [8, 3, 3, 3])
        #expect(p.initializers["bn1.running_var"]?.shape == [8])
        #expect(p.initializers["layer1.0.conv1.weight"]?.shape == [8, 8, 3, 3])
        #expect(p.initializers["layer1.0.conv2.weight"]?.shape == [8, 8, 3, 3])
        #expect(p.initializers["layer2.0.conv1.weight"]?.shape == [16, 8, 3, 3])
        #expect(p.initializers["layer2.0.conv2.weight"]?.shape == [16, 16, 3, 3])
        #expect(p.initializers["layer2.0.downsample.0.weight"]?.shape == [16, 8, 1, 1])
        #expect(p.initializers["fc.weight"]?.shape == [10, 16])
        #expect(p.initializers["fc.bias"]?.shape == [10])
        #expect(result.report.channels["layer2.0.conv2"] == 16 && result.report.channels["fc"] == 10)
        #expect(result.report.after.params < result.report.before.params)
        #expect(result.report.after.macs! < result.report.before.macs!)
        // The pruned graph analyzes to the same groups at the new widths.
        let again = ChannelGroups.analyze(p)
        #expect(again.groups.first { $0.name == "conv1+layer1.0.conv2" }?.size == 8)
    }

    @Test func removesExactlyTheChosenChannelsEverywhere() throws {
        let g = ExampleArchitecture.resnet.build(seed: 3)
        let groups = ChannelGroups.analyze(g)
        let stage1 = try #require(groups.groups.first { $0.name == "conv1+layer1.0.conv2" })
        let p = try g.removingChannels([stage1.id: [1, 4, 15]], groups: groups)
        let keep = (0..<16).filter { ![1, 4, 15].contains($0) }
        #expect(p.initializers["conv1.weight"] == g.initializers["conv1.weight"]!.gathering(axis: 0, indices: keep))
        #expect(p.initializers["layer1.0.conv2.weight"] == g.initializers["layer1.0.conv2.weight"]!.gathering(axis: 0, indices: keep))
        #expect(p.initializers["layer1.0.bn2.weight"] == g.initializers["layer1.0.bn2.weight"]!.gathering(axis: 0, indices: keep))
        #expect(p.initializers["layer2.0.downsample.0.weight"] == g.initializers["layer2.0.downsample.0.weight"]!.gathering(axis: 1, indices: keep))
        // layer1.0.conv1 is both a consumer of stage 1 (axis 1) and its own producer (axis 0, untouched).
        #expect(p.initializers["layer1.0.conv1.weight"] == g.initializers["layer1.0.conv1.weight"]!.gathering(axis: 1, indices: keep))
    }

    @Test func flattenIntoLinearDropsEachChannelsColumns() throws {
        let g = ExampleArchitecture.vgg.build()
        let groups = ChannelGroups.analyze(g)
        let last = try #require(groups.groups.first { $0.name == "features.8" })
        let p = try g.removingChannels([last.id: [0, 63]], groups: groups)
        let columns = (16..<(63 * 16)).map { $0 }
        #expect(p.initializers["classifier.0.weight"] == g.initializers["classifier.0.weight"]!.gathering(axis: 1, indices: columns))
    }

    @Test func depthwiseGroupAttributeFollowsTheChannelCount() throws {
        let g = ExampleArchitecture.depthwise.build()
        let r = try MagnitudePruner(rate: 0.25).prune(g, task: "dw", source: "dw.onnx")
        let dw = try #require(r.graph.nodes.first { $0.name == "blocks.0.dw" })
        #expect(dw.int("group") == 12)
        #expect(r.graph.initializers["blocks.0.dw.weight"]?.shape == [12, 1, 3, 3])
        #expect(r.graph.initializers["blocks.0.pw.weight"]?.shape == [24, 12, 1, 1])
    }

    @Test func rejectsPinnedGroupsOutOfRangeAndRemovingEverything() throws {
        let g = ExampleArchitecture.vgg.build()
        let groups = ChannelGroups.analyze(g)
        let head = try #require(groups.groups.first { $0.name == "classifier.2" })
        let first = try #require(groups.groups.first { $0.name == "features.0" })
        #expect(throws: SurgeryError.self) { try g.removingChannels([head.id: [0]], groups: groups) }
        #expect(throws: SurgeryError.channelOutOfRange(group: "features.0", channel: 16, size: 16)) {
            try g.removingChannels([first.id: [16]], groups: groups)
        }
        #expect(throws: SurgeryError.wouldRemoveAll(group: "features.0")) {
            try g.removingChannels([first.id: Array(0..<16)], groups: groups)
        }
    }

    @Test(arguments: [0.1, 0.3, 0.5, 0.9])
    func rateIsHonoredInEveryPrunableGroup(rate: Double) throws {
        for arch in ExampleArchitecture.allCases {
            let g = arch.build()
            let r = try MagnitudePruner(rate: rate).prune(g, task: arch.rawValue, source: "")
            for group in r.report.groups {
                let expected = group.prunable ? max(1, Int((Double(group.total) * (1 - rate)).rounded())) : group.total
                #expect(group.kept == expected, "\(arch) \(group.name)")
            }
        }
    }

    @Test func l1RankingDropsTheSmallestFilters() throws {
        var g = ExampleArchitecture.vgg.build()
        // Make filters 3 and 9 of features.0 tiny: they must be the ones removed.
        var w = g.initializers["features.0.weight"]!.floats()
        for f in [3, 9] { for k in 0..<27 { w[f * 27 + k] *= 1e-3 } }
        g.initializers["features.0.weight"] = Tensor(shape: [16, 3, 3, 3], floats: w)
        let r = try MagnitudePruner(rate: 0.125).prune(g, task: "vgg", source: "")
        #expect(r.report.groups.first { $0.name == "features.0" }?.removed == [3, 9])
    }
}

@Suite struct StateDictGraphTests {
    /// The VGG example's weights carry exactly PyTorch's state_dict names.
    func stateDict(_ arch: ExampleArchitecture) -> [(name: String, tensor: Tensor)] {
        arch.build().orderedInitializers.map { ($0.name, $0.tensor) }
    }

    @Test func sequentialStateDictGivesTheSameGroupsAsTheGraph() throws {
        // safetensors stores tensors sorted by name, not in module order.
        let tensors = stateDict(.vgg).sorted { $0.name < $1.name }
        let inferred = try StateDictGraph.infer(tensors: tensors)
        let a = ChannelGroups.analyze(inferred)
        let b = ChannelGroups.analyze(ExampleArchitecture.vgg.build())
        let summary = { (g: ChannelGroups) in g.groups.map { "\($0.name.replacingOccurrences(of: "input input", with: "input")):\($0.size):\($0.prunable)" }.sorted() }
        #expect(summary(a) == summary(b))
        // Pruning the same channels of either gives the same tensors.
        let removal = { (g: ChannelGroups) in
            Dictionary(uniqueKeysWithValues: g.groups.filter(\.prunable).map { ($0.id, [0, 2]) })
        }
        let pa = try inferred.removingChannels(removal(a), groups: a)
        let pb = try ExampleArchitecture.vgg.build().removingChannels(removal(b), groups: b)
        for (name, t) in pb.initializers { #expect(pa.initializers[name] == t, "\(name)") }
    }

    @Test func numberedModuleNamesChainUp() throws {
        var b = GraphBuilder(name: "n", seed: 1)
        var h = b.input("x", shape: [1, 1, 8, 8])
        h = b.relu(b.batchNorm(b.conv(h, out: 4, kernel: 3, name: "conv1"), name: "bn1"))
        h = b.relu(b.batchNorm(b.conv(h, out: 6, kernel: 3, name: "conv2"), name: "bn2"))
        h = b.relu(b.linear(b.flatten(h), out: 5, name: "fc1"))
        _ = b.linear(h, out: 2, name: "fc2")
        let inferred = try StateDictGraph.infer(tensors: b.graph.orderedInitializers.map { ($0.name, $0.tensor) }.sorted { $0.name < $1.name })
        #expect(inferred.nodes.filter { $0.opType != "Flatten" }.map(\.name) == ["conv1", "bn1", "conv2", "bn2", "fc1", "fc2"])
        let groups = ChannelGroups.analyze(inferred)
        #expect(groups.groups.first { $0.name == "conv2" }?.prunable == true)
        let fc1 = try #require(groups.sites.first { $0.tensor == "fc1.weight" && $0.role == .consumer })
        #expect(fc1.channels.count == 6 * 64)
    }

    @Test func residualStateDictAsksForONNX() {
        #expect {
            try StateDictGraph.infer(tensors: stateDict(.resnet))
        } throws: { error in
            "\(error)".contains("downsample") && "\(error)".contains("torch.onnx.export")
        }
    }

    @Test func widthsThatDoNotChainAskForONNX() {
        let t = { (shape: [Int]) in Tensor(shape: shape, floats: Array(repeating: 0, count: shape.reduce(1, *))) }
        #expect {
            try StateDictGraph.infer(tensors: [("a.weight", t([4, 3, 3, 3])), ("b.weight", t([5, 7, 3, 3]))])
        } throws: { error in
            "\(error)".contains("cannot tell the layer order")
        }
    }
}

@Suite struct SharedConstantTests {
    @Test func biasSharedThroughIdentityIsUntiedAndPrunes() throws {
        // Two convs reading one zero bias through Identity nodes, as PyTorch's exporter writes them.
        var g2 = GraphBuilder(name: "tied", seed: 1)
        let x2 = g2.input("input", shape: [1, 3, 8, 8])
        _ = g2.constant("shared_bias", Tensor(shape: [6], floats: Array(repeating: 0, count: 6)))
        let i1 = g2.node("Identity", ["shared_bias"], outputShape: [6])
        let i2 = g2.node("Identity", ["shared_bias"], outputShape: [6])
        var h = g2.relu(g2.conv(x2, out: 6, kernel: 3, bias: false, name: "c1"))
        h = g2.relu(g2.conv(h, out: 6, kernel: 3, bias: false, name: "c2"))
        g2.output(g2.conv(h, out: 2, kernel: 1, pad: 0, bias: false, name: "c3"))
        var graph = g2.graph
        for (name, bias) in [("c1", i1), ("c2", i2)] {
            let i = graph.nodes.firstIndex { $0.name == name }!
            graph.nodes[i].inputs.append(bias)
        }
        // Without untying, the computed bias pins both layers.
        #expect(ChannelGroups.analyze(graph).prunable.isEmpty)
        let r = try MagnitudePruner(rate: 0.5).prune(graph, task: "tied", source: "")
        #expect(r.report.groups.filter(\.prunable).map(\.name).sorted() == ["c1", "c2"])
        #expect(r.graph.initializers[i1]?.shape == [3] && r.graph.initializers[i2]?.shape == [3])
        #expect(!r.graph.nodes.contains { $0.opType == "Identity" })
    }
}
