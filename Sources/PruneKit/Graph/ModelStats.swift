/// Size and cost of a graph: parameters (floating-point initializers other than BN running
/// statistics, as PyTorch's `parameters()` counts them), the values a file stores (every
/// floating-point initializer), and multiply-accumulates of its convs and matrix products for
/// one sample; FLOPs = 2 × MACs.
public struct ModelStats: Sendable, Codable, Equatable {
    public var params: Int
    /// Floating-point values stored: `params` plus BN running statistics. What storage figures
    /// (the bundle against the models apart) count, since a model cannot run without them.
    public var stored: Int
    /// nil when some conv or matmul has a shape the inference could not derive.
    public var macs: Int?
    public var flops: Int? { macs.map { 2 * $0 } }

    enum CodingKeys: String, CodingKey { case params, stored, macs, flops }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(params, forKey: .params)
        try c.encode(stored, forKey: .stored)
        try c.encode(macs, forKey: .macs)
        try c.encode(flops, forKey: .flops)
    }
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        params = try c.decode(Int.self, forKey: .params)
        stored = try c.decodeIfPresent(Int.self, forKey: .stored) ?? params  // jobs written before `stored` existed
        macs = try c.decodeIfPresent(Int.self, forKey: .macs)
    }
    public init(params: Int, stored: Int? = nil, macs: Int?) {
        self.params = params
        self.stored = stored ?? params
        self.macs = macs
    }

    public init(graph: Graph, shapes: ShapeInference) {
        let running = graph.batchNormRunningStatistics
        let floats = graph.initializers.filter { $0.value.dtype.isFloatingPoint }
        stored = floats.values.reduce(0) { $0 + $1.count }
        params = floats.filter { !running.contains($0.key) }.values.reduce(0) { $0 + $1.count }
        // Checked arithmetic: shapes come from the file (a declared input, a weight), and a
        // count past Int's range is "unknown", not a crash.
        var total: Int? = 0
        func add(_ factors: [Int]) {
            guard let sum = total, let product = Tensor.elementCount(factors) else { total = nil; return }
            let (s, overflow) = sum.addingReportingOverflow(product)
            total = overflow ? nil : s
        }
        for node in graph.nodes {
            switch node.opType {
            case "Conv":
                guard let w = graph.initializers[node.inputs[1]]?.shape ?? shapes.shape(node.inputs[1]),
                      let y = shapes.shape(node.outputs[0]) else { total = nil; continue }
                // Each output element reads (Cin / group) · k_h · k_w inputs; per sample.
                add(Array(y.dropFirst()) + Array(w.dropFirst()))
            case "Gemm", "MatMul":
                guard let a = shapes.shape(node.inputs[0]), let y = shapes.shape(node.outputs[0]), a.count >= 2 else { total = nil; continue }
                let k = node.opType == "Gemm" && node.int("transA") == 1 ? a[0] : a[a.count - 1]
                let rows = a.count > 2 ? Array(a.dropFirst().dropLast()) : []
                add(rows + [y[y.count - 1], k])
            default:
                continue
            }
        }
        macs = total
    }
}
