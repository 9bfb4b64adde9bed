import Foundation

/// Builds small ONNX-style graphs with seeded random weights: the example models of
/// `pruned example-model`, and every graph the tests need, so no test reads a file from elsewhere.
///
/// Weight names follow PyTorch's state_dict (`features.0.weight`, `bn.running_mean`).
public struct GraphBuilder {
    public private(set) var graph: Graph
    private var rng: Xoshiro256StarStar
    private var shapes: [String: [Int]] = [:]
    private var counter = 0

    public init(name: String, seed: UInt64) {
        graph = Graph(name: name)
        graph.model.opsets = [Opset(domain: "", version: 17)]
        rng = Xoshiro256StarStar(seed: seed)
    }

    /// Shape of a value built so far.
    public func shape(_ value: String) -> [Int] { shapes[value]! }

    private mutating func fresh(_ op: String) -> String {
        counter += 1
        return "\(op.lowercased())_\(counter)"
    }

    mutating func uniform(_ shape: [Int], bound: Float, center: Float = 0) -> Tensor {
        let n = shape.reduce(1, *)
        return Tensor(shape: shape, floats: (0..<n).map { _ in center + bound * Float(2 * rng.nextDouble() - 1) })
    }

    /// Adds a node whose output shape the caller states (for ops the builder has no helper for).
    @discardableResult
    public mutating func node(_ opType: String, _ inputs: [String], outputShape: [Int], domain: String = "",
                              attributes: [Attribute] = [], name: String? = nil) -> String {
        let out = fresh(opType)
        graph.nodes.append(Node(name: name ?? out, opType: opType, domain: domain, inputs: inputs, outputs: [out], attributes: attributes))
        shapes[out] = outputShape
        if !domain.isEmpty && !graph.model.opsets.contains(where: { $0.domain == domain }) {
            graph.model.opsets.append(Opset(domain: domain, version: 1))
        }
        return out
    }

    public mutating func input(_ name: String, shape: [Int]) -> String {
        graph.inputs.append(ValueInfo(name: name, elementType: .f32, shape: shape.map { .fixed($0) }))
        shapes[name] = shape
        return name
    }

    public mutating func output(_ value: String) {
        graph.outputs.append(ValueInfo(name: value, elementType: .f32, shape: shapes[value].map { $0.map { .fixed($0) } }))
    }

    public mutating func constant(_ name: String, _ tensor: Tensor) -> String {
        graph.setInitializer(name, tensor)
        shapes[name] = tensor.shape
        return name
    }

    public mutating func conv(_ x: String, out: Int, kernel: Int, stride: Int = 1, pad: Int? = nil, group: Int = 1,
                              dilation: Int = 1, bias: Bool = true, name: String) -> String {
        let s = shape(x)
        let cin = s[1]
        let p = pad ?? (kernel / 2) * dilation
        let fanIn = Float(cin / group * kernel * kernel)
        var inputs = [x, constant("\(name).weight", uniform([out, cin / group, kernel, kernel], bound: (6 / fanIn).squareRoot()))]
        if bias { inputs.append(constant("\(name).bias", uniform([out], bound: 0.1))) }
        let oh = (s[2] + 2 * p - dilation * (kernel - 1) - 1) / stride + 1
        let ow = (s[3] + 2 * p - dilation * (kernel - 1) - 1) / stride + 1
        return node("Conv", inputs, outputShape: [s[0], out, oh, ow], attributes: [
            Attribute("dilations", .ints([dilation, dilation])), Attribute("group", .int(group)),
            Attribute("kernel_shape", .ints([kernel, kernel])), Attribute("pads", .ints([p, p, p, p])),
            Attribute("strides", .ints([stride, stride])),
        ], name: name)
    }

    public mutating func batchNorm(_ x: String, name: String) -> String {
        let c = shape(x)[1]
        let inputs = [
            x,
            constant("\(name).weight", uniform([c], bound: 0.5, center: 1)),
            constant("\(name).bias", uniform([c], bound: 0.1)),
            constant("\(name).running_mean", uniform([c], bound: 0.1)),
            constant("\(name).running_var", uniform([c], bound: 0.5, center: 1)),
        ]
        return node("BatchNormalization", inputs, outputShape: shape(x), attributes: [Attribute("epsilon", .float(1e-5))], name: name)
    }

    public mutating func relu(_ x: String) -> String { node("Relu", [x], outputShape: shape(x)) }

    public mutating func add(_ a: String, _ b: String) -> String {
        node("Add", [a, b], outputShape: ShapeInference.broadcast([shape(a), shape(b)])!)
    }

    public mutating func concat(_ xs: [String]) -> String {
        var s = shape(xs[0])
        s[1] = xs.map { shape($0)[1] }.reduce(0, +)
        return node("Concat", xs, outputShape: s, attributes: [Attribute("axis", .int(1))])
    }

    public mutating func maxPool(_ x: String, kernel: Int, stride: Int) -> String {
        let s = shape(x)
        return node("MaxPool", [x], outputShape: [s[0], s[1], (s[2] - kernel) / stride + 1, (s[3] - kernel) / stride + 1],
                    attributes: [Attribute("kernel_shape", .ints([kernel, kernel])), Attribute("strides", .ints([stride, stride]))])
    }

    public mutating func globalAveragePool(_ x: String) -> String {
        let s = shape(x)
        return node("GlobalAveragePool", [x], outputShape: [s[0], s[1], 1, 1])
    }

    public mutating func flatten(_ x: String) -> String {
        let s = shape(x)
        return node("Flatten", [x], outputShape: [s[0], s.dropFirst().reduce(1, *)], attributes: [Attribute("axis", .int(1))])
    }

    /// A PyTorch `nn.Linear` as ONNX exports it: Gemm with transB = 1.
    public mutating func linear(_ x: String, out: Int, name: String) -> String {
        let s = shape(x)
        let w = constant("\(name).weight", uniform([out, s[1]], bound: (6 / Float(s[1])).squareRoot()))
        let b = constant("\(name).bias", uniform([out], bound: 0.1))
        return node("Gemm", [x, w, b], outputShape: [s[0], out],
                    attributes: [Attribute("alpha", .float(1)), Attribute("beta", .float(1)), Attribute("transB", .int(1))], name: name)
    }
}
