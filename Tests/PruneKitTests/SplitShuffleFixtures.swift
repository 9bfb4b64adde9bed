@testable import PruneKit

/// Small networks with Split, Slice and ShuffleNet's channel shuffle between prunable convs,
/// for the analysis and surgery tests.
enum SplitShuffleFixtures {
    static func ints(_ v: [Int64]) -> Tensor { Tensor(shape: [v.count], int64s: v) }

    /// How a Split spells its sizes, by opset.
    enum Spelling: String, CaseIterable, Sendable {
        case attribute11, input13, outputCount13, numOutputs18
    }

    /// A Split node of `x` along `axis` into `sizes`, spelled as `spelling` says (the graph's
    /// opset must match); outputs `<name>.0`, `<name>.1`, ...
    static func split(_ g: inout Graph, _ x: String, axis: Int, sizes: [Int], spelling: Spelling, name: String) -> [String] {
        let outs = sizes.indices.map { "\(name).\($0)" }
        var node = Node(name: name, opType: "Split", inputs: [x], outputs: outs, attributes: [Attribute("axis", .int(axis))])
        switch spelling {
        case .attribute11: node.attributes.append(Attribute("split", .ints(sizes)))
        case .input13:
            g.setInitializer("\(name).sizes", ints(sizes.map(Int64.init)))
            node.inputs.append("\(name).sizes")
        case .outputCount13: break
        case .numOutputs18: node.attributes.append(Attribute("num_outputs", .int(sizes.count)))
        }
        g.nodes.append(node)
        return outs
    }

    static func opset(_ spelling: Spelling) -> Int {
        switch spelling {
        case .attribute11: 11
        case .input13, .outputCount13: 13
        case .numOutputs18: 18
        }
    }

    /// c1 (8) → Split on channels [4, 4] → c2 reads part 0, c3 part 1 → Add → head.
    static func channelSplit(_ spelling: Spelling) -> Graph {
        var b = GraphBuilder(name: "split", seed: 31)
        let h = b.relu(b.conv(b.input("input", shape: [2, 3, 6, 6]), out: 8, kernel: 3, name: "c1"))
        var g = b.graph
        g.model.opsets = [Opset(domain: "", version: opset(spelling))]
        let parts = split(&g, h, axis: 1, sizes: [4, 4], spelling: spelling, name: "split")
        return head(g, seed: 32, after: parts, widths: [4, 4])
    }

    /// c1 (8) → Split along height into [2, 4] → each part read by its own conv → Concat
    /// along height → head: c1's channels reach both convs.
    static func spatialSplit() -> Graph {
        var b = GraphBuilder(name: "spatial-split", seed: 33)
        let h = b.relu(b.conv(b.input("input", shape: [2, 3, 6, 6]), out: 8, kernel: 3, name: "c1"))
        var g = b.graph
        g.model.opsets = [Opset(domain: "", version: 13)]
        let parts = split(&g, h, axis: 2, sizes: [2, 4], spelling: .input13, name: "split")
        var rows: [String] = []
        for (k, p) in parts.enumerated() {
            g.setInitializer("r\(k).weight", Tensor(shape: [5, 8, 1, 1], floats: KernelFixtures.values(40, seed: UInt64(40 + k))))
            g.nodes.append(Node(name: "r\(k)", opType: "Conv", inputs: [p, "r\(k).weight"], outputs: ["r\(k).out"]))
            rows.append("r\(k).out")
        }
        g.nodes.append(Node(name: "rows", opType: "Concat", inputs: rows, outputs: ["rows.out"], attributes: [Attribute("axis", .int(2))]))
        return finish(g, "rows.out", channels: 5)
    }

    /// c1 (8) → Slice channels [2, 7) (negative start −6, step 1) or every other one → c2.
    static func channelSlice(step: Int64 = 1) -> Graph {
        var b = GraphBuilder(name: "slice", seed: 34)
        let h = b.relu(b.conv(b.input("input", shape: [2, 3, 6, 6]), out: 8, kernel: 3, name: "c1"))
        var g = b.graph
        g.setInitializer("starts", ints([-6])); g.setInitializer("ends", ints([7]))
        g.setInitializer("axes", ints([1])); g.setInitializer("steps", ints([step]))
        g.nodes.append(Node(name: "slice", opType: "Slice", inputs: [h, "starts", "ends", "axes", "steps"], outputs: ["sliced"]))
        return head(g, seed: 35, after: ["sliced"], widths: [step == 1 ? 5 : 3])
    }

    /// Two ShuffleNet V2 units sharing their reshape targets, as torchvision's export does:
    /// c0 (8) → Split [4, 4]; part 1 → c1 (4); Concat [part 0, c1] → shuffle → Split [4, 4];
    /// part 1 → c2 (4); Concat [part 0, c2] → shuffle → c3 (6) → head.
    static func shuffleUnits() -> Graph {
        var b = GraphBuilder(name: "shuffle", seed: 36)
        let x = b.relu(b.conv(b.input("input", shape: [2, 3, 6, 6]), out: 8, kernel: 3, name: "c0"))
        var g = b.graph
        g.setInitializer("to5d", ints([2, 2, 4, 6, 6]))
        g.setInitializer("to4d", ints([2, 8, 6, 6]))
        var h = x
        for unit in 1...2 {
            let parts = split(&g, h, axis: 1, sizes: [4, 4], spelling: .input13, name: "split\(unit)")
            let w = "c\(unit).weight"
            g.setInitializer(w, Tensor(shape: [4, 4, 1, 1], floats: KernelFixtures.values(16, seed: UInt64(50 + unit))))
            g.nodes.append(Node(name: "c\(unit)", opType: "Conv", inputs: [parts[1], w], outputs: ["c\(unit).out"]))
            g.nodes.append(Node(name: "relu\(unit)", opType: "Relu", inputs: ["c\(unit).out"], outputs: ["b\(unit)"]))
            g.nodes.append(Node(name: "cat\(unit)", opType: "Concat", inputs: [parts[0], "b\(unit)"], outputs: ["cat\(unit)"],
                                attributes: [Attribute("axis", .int(1))]))
            g.nodes.append(Node(name: "view\(unit)", opType: "Reshape", inputs: ["cat\(unit)", "to5d"], outputs: ["v\(unit)"]))
            g.nodes.append(Node(name: "transpose\(unit)", opType: "Transpose", inputs: ["v\(unit)"], outputs: ["t\(unit)"],
                                attributes: [Attribute("perm", .ints([0, 2, 1, 3, 4]))]))
            g.nodes.append(Node(name: "back\(unit)", opType: "Reshape", inputs: ["t\(unit)", "to4d"], outputs: ["s\(unit)"]))
            h = "s\(unit)"
        }
        g.setInitializer("c3.weight", Tensor(shape: [6, 8, 3, 3], floats: KernelFixtures.values(432, seed: 60)))
        g.nodes.append(Node(name: "c3", opType: "Conv", inputs: [h, "c3.weight"], outputs: ["c3.out"],
                            attributes: [Attribute("pads", .ints([1, 1, 1, 1]))]))
        return finish(g, "c3.out", channels: 6)
    }

    /// One 1×1 conv per part (named c2, c3, ...), their sum, then the head.
    static func head(_ graph: Graph, seed: UInt64, after parts: [String], widths: [Int]) -> Graph {
        var g = graph
        var outs: [String] = []
        for (k, (p, w)) in zip(parts, widths).enumerated() {
            let name = "c\(k + 2)"
            g.setInitializer("\(name).weight", Tensor(shape: [4, w, 1, 1], floats: KernelFixtures.values(4 * w, seed: seed + UInt64(k))))
            g.setInitializer("\(name).bias", Tensor(shape: [4], floats: KernelFixtures.values(4, seed: seed + 10 + UInt64(k))))
            g.nodes.append(Node(name: name, opType: "Conv", inputs: [p, "\(name).weight", "\(name).bias"], outputs: ["\(name).out"]))
            outs.append("\(name).out")
        }
        if outs.count > 1 { g.nodes.append(Node(name: "sum", opType: "Add", inputs: outs, outputs: ["sum"])) }
        return finish(g, outs.count > 1 ? "sum" : outs[0], channels: 4)
    }

    /// ReLU → global average pool → flatten → linear to 3 logits.
    static func finish(_ graph: Graph, _ x: String, channels: Int) -> Graph {
        var g = graph
        g.setInitializer("fc.weight", Tensor(shape: [3, channels], floats: KernelFixtures.values(3 * channels, seed: 70)))
        g.nodes += [
            Node(name: "head.relu", opType: "Relu", inputs: [x], outputs: ["head.r"]),
            Node(name: "gap", opType: "GlobalAveragePool", inputs: ["head.r"], outputs: ["gap"]),
            Node(name: "flat", opType: "Flatten", inputs: ["gap"], outputs: ["flat"]),
            Node(name: "fc", opType: "Gemm", inputs: ["flat", "fc.weight"], outputs: ["logits"], attributes: [Attribute("transB", .int(1))]),
        ]
        g.outputs = [ValueInfo(name: "logits", shape: nil)]
        return g
    }
}
