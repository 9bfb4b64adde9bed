/// A graph for a safetensors file that comes without one: a plain sequential conv net saved
/// from a PyTorch state_dict (conv / batch-norm / linear modules, in order). The layer order
/// is read from the module names where the widths then chain up; anything else (a residual
/// net, names that do not say the order) is an error that asks for the ONNX export.
public enum StateDictGraph {
    public struct Failure: Error, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    enum Kind: Int { case conv = 0, bn = 1, linear = 2 }

    struct Module {
        var path: String
        var kind: Kind
        var tensors: [String: String]  // role (weight, bias, running_mean, ...) -> full name
        var inWidth: Int
        var outWidth: Int
    }

    static let askForONNX = "export the model to ONNX (torch.onnx.export) and send that: it carries the graph"

    public static func infer(tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:]) throws -> Graph {
        let byName = Dictionary(tensors.map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a })
        var prefixes: [String: [String: String]] = [:]
        for (name, _) in tensors {
            guard let dot = name.lastIndex(of: ".") else {
                throw Failure(message: "tensor '\(name)' has no module prefix (expected PyTorch state_dict names like 'features.0.weight'); \(askForONNX)")
            }
            prefixes[String(name[..<dot]), default: [:]][String(name[name.index(after: dot)...])] = name
        }
        var modules: [Module] = []
        for (path, roles) in prefixes {
            guard let wName = roles["weight"], let w = byName[wName] else {
                throw Failure(message: "module '\(path)' has no 'weight' tensor; only conv, batch-norm and linear layers are understood without a graph; \(askForONNX)")
            }
            if roles["running_mean"] != nil && roles["running_var"] != nil && w.rank == 1 {
                modules.append(Module(path: path, kind: .bn, tensors: roles, inWidth: w.shape[0], outWidth: w.shape[0]))
            } else if w.rank == 4 {
                modules.append(Module(path: path, kind: .conv, tensors: roles, inWidth: w.shape[1], outWidth: w.shape[0]))
            } else if w.rank == 2 {
                modules.append(Module(path: path, kind: .linear, tensors: roles, inWidth: w.shape[1], outWidth: w.shape[0]))
            } else {
                throw Failure(message: "module '\(path)': weight of shape \(w.shape) is neither conv (4-D), linear (2-D) nor batch-norm; \(askForONNX)")
            }
        }
        if let odd = modules.first(where: { ["downsample", "shortcut", "skip", "residual"].contains(where: $0.path.contains) }) {
            throw Failure(message: "module '\(odd.path)' looks like a residual shortcut, whose wiring names alone do not give; \(askForONNX)")
        }
        guard modules.contains(where: { $0.kind != .bn }) else {
            throw Failure(message: "no conv or linear layer found in the file; \(askForONNX)")
        }

        // Candidate orders: the natural order of the module paths (nn.Sequential: features.0, features.1, ...),
        // and convs before linears with the numbers in the names deciding (conv1, bn1, conv2, bn2, fc1, fc2).
        let natural = modules.sorted { naturalLess($0.path, $1.path) }
        let numbered = modules.sorted {
            let a = (phase($0), numbers($0.path)), b = (phase($1), numbers($1.path))
            if a.0 != b.0 { return a.0 < b.0 }
            if a.1 != b.1 { return a.1.lexicographicallyPrecedes(b.1) }
            if $0.kind != $1.kind { return $0.kind.rawValue < $1.kind.rawValue }
            return naturalLess($0.path, $1.path)
        }
        var reasons: [String] = []
        var chains: [[Module]] = []
        for order in [natural, numbered] {
            if let why = chainProblem(order) { reasons.append(why) } else if !chains.contains(where: { $0.map(\.path) == order.map(\.path) }) { chains.append(order) }
        }
        guard let chain = chains.first else {
            throw Failure(message: "cannot tell the layer order from the names: \(reasons.first ?? "widths do not chain"); \(askForONNX)")
        }
        guard chains.count == 1 else {
            throw Failure(message: "the layer order is ambiguous: the names allow both \(chains[0].map(\.path)) and \(chains[1].map(\.path)); \(askForONNX)")
        }
        return build(chain, tensors: tensors, byName: byName, metadata: metadata)
    }

    private static func phase(_ m: Module) -> Int { m.kind == .linear ? 1 : 0 }

    private static func numbers(_ path: String) -> [Int] {
        var out: [Int] = []
        var current: Int?
        for ch in path {
            if let d = ch.wholeNumberValue, ch.isASCII { current = (current ?? 0) * 10 + d } else if let c = current { out.append(c); current = nil }
        }
        if let c = current { out.append(c) }
        return out
    }

    static func naturalLess(_ a: String, _ b: String) -> Bool {
        let pa = a.split(separator: "."), pb = b.split(separator: ".")
        for (x, y) in zip(pa, pb) where x != y {
            if let i = Int(x), let j = Int(y) { return i < j }
            return x < y
        }
        return pa.count < pb.count
    }

    /// Why `order` is not a plain chain, or nil when every width matches the next layer's.
    private static func chainProblem(_ order: [Module]) -> String? {
        var width: Int?
        var flattened = false
        for m in order {
            switch m.kind {
            case .bn:
                guard let w = width, w == m.inWidth, !flattened else { return "batch-norm '\(m.path)' of \(m.inWidth) channels follows a layer of \(width.map(String.init) ?? "no") channels" }
            case .conv:
                if flattened { return "conv '\(m.path)' comes after a linear layer" }
                if let w = width, w != m.inWidth {
                    // A grouped conv reads in/group channels per filter; only depthwise (in = 1) is unambiguous.
                    if m.inWidth != 1 || m.outWidth % w != 0 { return "conv '\(m.path)' reads \(m.inWidth) channels, the layer before gives \(w)" }
                }
                width = m.outWidth
            case .linear:
                if let w = width, !(w == m.inWidth || (!flattened && m.inWidth % w == 0)) {
                    return "linear '\(m.path)' reads \(m.inWidth) features, not a multiple of the \(w) channels before it"
                }
                flattened = true
                width = m.outWidth
            }
        }
        return nil
    }

    private static func build(_ chain: [Module], tensors: [(name: String, tensor: Tensor)], byName: [String: Tensor],
                              metadata: [String: String]) -> Graph {
        var graph = Graph(name: "state_dict", initializers: tensors.map { ($0.name, $0.tensor) })
        let inChannels = chain.first { $0.kind != .bn }!.inWidth
        graph.inputs = [ValueInfo(name: "input", elementType: .f32, shape: [.symbolic("N"), .fixed(inChannels), .unknown, .unknown])]
        var value = "input"
        var width = inChannels
        var flattened = false
        for m in chain {
            let out = "\(m.path).output"
            var node: Node
            switch m.kind {
            case .conv:
                let w = byName[m.tensors["weight"]!]!
                let group = m.inWidth == 1 && width > 1 ? width : 1
                node = Node(name: m.path, opType: "Conv", inputs: [value, m.tensors["weight"]!] + (m.tensors["bias"].map { [$0] } ?? []),
                            outputs: [out], attributes: [Attribute("group", .int(group)), Attribute("kernel_shape", .ints(Array(w.shape[2...])))])
                width = m.outWidth
            case .bn:
                node = Node(name: m.path, opType: "BatchNormalization",
                            inputs: [value] + ["weight", "bias", "running_mean", "running_var"].map { m.tensors[$0] ?? "" }, outputs: [out])
            case .linear:
                if !flattened {
                    let f = "\(m.path).flatten"
                    graph.nodes.append(Node(name: f, opType: "Flatten", inputs: [value], outputs: [f], attributes: [Attribute("axis", .int(1))]))
                    value = f
                    flattened = true
                }
                node = Node(name: m.path, opType: "Gemm", inputs: [value, m.tensors["weight"]!] + (m.tensors["bias"].map { [$0] } ?? []),
                            outputs: [out], attributes: [Attribute("transB", .int(1))])
                width = m.outWidth
            }
            graph.nodes.append(node)
            value = out
        }
        graph.outputs = [ValueInfo(name: value, elementType: .f32, shape: nil)]
        graph.model.metadata = metadata.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        return graph
    }
}
