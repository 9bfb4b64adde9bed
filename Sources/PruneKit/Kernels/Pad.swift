/// ONNX Pad: `constant`, `reflect`, `edge` and `wrap` modes, negative pads cropping.
public enum PadMode: String, Sendable, CaseIterable {
    case constant, reflect, edge, wrap
}

/// A Pad resolved for one input rank: how much is added before and after each axis.
public struct PadParameters: Sendable, Equatable {
    public var mode: PadMode
    public var begins: [Int]
    public var ends: [Int]
    /// What `constant` mode fills with.
    public var value: Float

    public init(mode: PadMode, begins: [Int], ends: [Int], value: Float = 0) {
        self.mode = mode
        self.begins = begins
        self.ends = ends
        self.value = value
    }

    /// ONNX's `pads` ([x1_begin, x2_begin, …, x1_end, x2_end, …]) for the listed `axes` (all
    /// when nil) of an input of `rank`.
    public init(mode: PadMode, pads: [Int], axes: [Int]?, rank: Int, value: Float = 0) throws {
        let listed = (axes ?? Array(0..<rank)).map { $0 < 0 ? $0 + rank : $0 }
        guard listed.allSatisfy({ $0 >= 0 && $0 < rank }), Set(listed).count == listed.count else {
            throw KernelError.attribute("Pad axes \(axes ?? []) for rank \(rank)")
        }
        guard pads.count == 2 * listed.count else { throw KernelError.attribute("Pad pads \(pads) for \(listed.count) axes") }
        var begins = [Int](repeating: 0, count: rank), ends = begins
        for (k, axis) in listed.enumerated() { begins[axis] = pads[k]; ends[axis] = pads[k + listed.count] }
        self.init(mode: mode, begins: begins, ends: ends, value: value)
    }

    public func outputShape(_ input: [Int]) -> [Int] {
        input.indices.map { input[$0] + begins[$0] + ends[$0] }
    }

    /// Per output element, the flat index of the input element it copies, or −1 for the
    /// constant fill: the one table the forward and the backward both read.
    func sources(_ input: [Int]) throws -> [Int] {
        guard input.count == begins.count else { throw KernelError.shape("Pad of rank \(begins.count) applied to \(input)") }
        let output = outputShape(input)
        guard output.allSatisfy({ $0 >= 0 }) else { throw KernelError.shape("Pad \(begins)/\(ends) crops \(input) below nothing") }
        let count = try resultCount(output)
        var axisMaps: [[Int]] = []
        for (axis, n) in input.enumerated() {
            if mode != .constant, n == 0, output[axis] > 0 { throw KernelError.shape("Pad \(mode.rawValue) of an empty axis") }
            axisMaps.append((0..<output[axis]).map { j in source(j - begins[axis], length: n) })
        }
        var strides = [Int](repeating: 1, count: input.count)
        for a in input.indices.reversed().dropFirst() { strides[a] = strides[a + 1] * input[a + 1] }
        var table = [Int](repeating: -1, count: count)
        var index = [Int](repeating: 0, count: output.count)
        for flat in 0..<count {
            var s = 0
            for a in index.indices {
                let i = axisMaps[a][index[a]]
                if i < 0 { s = -1; break }
                s += i * strides[a]
            }
            table[flat] = s
            var a = index.count - 1
            while a >= 0 { index[a] += 1; if index[a] < output[a] { break }; index[a] = 0; a -= 1 }
        }
        return table
    }

    /// The input position read at `i` along an axis of length `n` (i may lie outside), −1 for fill.
    private func source(_ i: Int, length n: Int) -> Int {
        if i >= 0 && i < n { return i }
        switch mode {
        case .constant: return -1
        case .edge: return min(max(i, 0), n - 1)
        case .wrap: return ((i % n) + n) % n
        case .reflect:
            guard n > 1 else { return 0 }
            let period = 2 * (n - 1)
            let r = ((i % period) + period) % period
            return r < n ? r : period - r
        }
    }
}

/// `x` padded (or cropped, where a pad is negative).
public func pad(_ x: NDArray<Float>, _ p: PadParameters) throws -> NDArray<Float> {
    let table = try p.sources(x.shape)
    return NDArray(uncheckedShape: p.outputShape(x.shape), storage: table.map { $0 < 0 ? p.value : x.storage[$0] })
}

/// The gradient of `pad(x, p)`: each copied element's gradient summed back into its source
/// (edge, reflect and wrap read some elements several times); the fill has none.
public func padBackward(gradOutput dy: NDArray<Float>, inputShape: [Int], _ p: PadParameters) throws -> NDArray<Float> {
    guard dy.shape == p.outputShape(inputShape) else {
        throw KernelError.shape("output gradient \(dy.shape) does not match \(p.outputShape(inputShape))")
    }
    let table = try p.sources(inputShape)
    var dx = [Float](repeating: 0, count: try resultCount(inputShape))
    for (s, g) in zip(table, dy.storage) where s >= 0 { dx[s] += g }
    return NDArray(uncheckedShape: inputShape, storage: dx)
}

extension PadMode {
    /// The node's `mode` attribute (default `constant`).
    public init(_ node: Node) throws {
        let raw = node.string("mode") ?? "constant"
        guard let mode = PadMode(rawValue: raw) else { throw KernelError.unsupported("Pad mode \"\(raw)\"") }
        self = mode
    }
}
