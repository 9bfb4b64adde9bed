import Foundation

/// Static shapes of a graph's values, and the values of the small integer tensors
/// (Shape → Gather → Concat → Reshape) that PyTorch exports build reshapes from.
///
/// Inference never throws: a value whose shape cannot be derived is simply absent, and
/// the dependency analysis treats its channels as unknown (not prunable).
public struct ShapeInference: Sendable {
    public internal(set) var shapes: [String: [Int]] = [:]
    public internal(set) var constants: [String: [Int64]] = [:]

    /// - Parameter inputShapes: shapes for the graph's data inputs; missing ones come from
    ///   the declared shape, with a symbolic or unknown leading (batch) dimension taken as `batch`.
    public init(graph: Graph, inputShapes: [String: [Int]] = [:], batch: Int = 1) {
        for (name, t) in graph.initializers {
            shapes[name] = t.shape
            if !t.dtype.isFloatingPoint && t.count <= 64 { constants[name] = t.int64s() }
        }
        for input in graph.dataInputs {
            if let s = inputShapes[input.name] {
                if Self.elementCount(s) != nil { shapes[input.name] = s }
                continue
            }
            guard let dims = input.shape else { continue }
            var s: [Int] = []
            for (i, d) in dims.enumerated() {
                if let v = d.value { s.append(v) } else if i == 0 { s.append(batch) } else { s = []; break }
            }
            if s.count == dims.count, Self.elementCount(s) != nil { shapes[input.name] = s }
        }
        for index in graph.topologicalOrder() {
            infer(graph.nodes[index], graph: graph)
            foldIntegerConstant(graph.nodes[index], opset: graph.model.defaultOpset)
        }
    }

    public func shape(_ value: String) -> [Int]? { shapes[value] }

    /// No inferred tensor is larger than this (elements per sample, 16 GiB of floats): a shape
    /// beyond it — a given or declared input shape, a Reshape target — is left unknown, so
    /// that the products taken of shapes (FLOPs, flatten widths) cannot overflow.
    public static let maxElements = 1 << 32

    /// The product of `dims`, nil when one is negative or it passes `maxElements`.
    public static func elementCount(_ dims: [Int]) -> Int? {
        Tensor.elementCount(dims).flatMap { $0 <= maxElements ? $0 : nil }
    }

    private mutating func infer(_ node: Node, graph: Graph) {
        let ins = node.inputs.map { $0.isEmpty ? nil : shapes[$0] }
        func set(_ s: [Int]?, _ slot: Int = 0) {
            if let s, slot < node.outputs.count, Self.elementCount(s) != nil { shapes[node.outputs[slot]] = s }
        }
        func constant(_ slot: Int) -> [Int64]? { slot < node.inputs.count ? constants[node.inputs[slot]] : nil }
        let x = ins.first ?? nil

        switch node.opType {
        case "Conv":
            guard let x, let w = ins.count > 1 ? ins[1] : nil, x.count == w.count, x.count >= 3 else { return }
            let spatial = x.count - 2
            let kernel = node.ints("kernel_shape") ?? Array(w[2...])
            let strides = node.ints("strides") ?? Array(repeating: 1, count: spatial)
            let dilations = node.ints("dilations") ?? Array(repeating: 1, count: spatial)
            let pads = node.ints("pads") ?? Array(repeating: 0, count: 2 * spatial)
            guard kernel.count == spatial, strides.count == spatial, dilations.count == spatial, pads.count == 2 * spatial else { return }
            var out = [x[0], w[0]]
            for i in 0..<spatial {
                out.append(Self.windowOutput(size: x[i + 2], kernel: kernel[i], stride: strides[i], dilation: dilations[i],
                                             padBegin: pads[i], padEnd: pads[i + spatial], autoPad: node.string("auto_pad"), ceil: false))
            }
            if out.allSatisfy({ $0 > 0 }) { set(out) }
        case "MaxPool", "AveragePool", "LpPool":
            guard let x, x.count >= 3, let kernel = node.ints("kernel_shape") else { return }
            let spatial = x.count - 2
            let strides = node.ints("strides") ?? Array(repeating: 1, count: spatial)
            let dilations = node.ints("dilations") ?? Array(repeating: 1, count: spatial)
            let pads = node.ints("pads") ?? Array(repeating: 0, count: 2 * spatial)
            guard kernel.count == spatial, strides.count == spatial, dilations.count == spatial, pads.count == 2 * spatial else { return }
            var out = Array(x[..<2])
            for i in 0..<spatial {
                out.append(Self.windowOutput(size: x[i + 2], kernel: kernel[i], stride: strides[i], dilation: dilations[i],
                                             padBegin: pads[i], padEnd: pads[i + spatial], autoPad: node.string("auto_pad"),
                                             ceil: node.int("ceil_mode") == 1))
            }
            if out.allSatisfy({ $0 > 0 }) { set(out) }
        case "GlobalAveragePool", "GlobalMaxPool":
            guard let x, x.count >= 3 else { return }
            set(Array(x[..<2]) + Array(repeating: 1, count: x.count - 2))
        case "BatchNormalization", "Relu", "LeakyRelu", "Sigmoid", "Tanh", "Clip", "HardSigmoid", "HardSwish",
             "Elu", "Selu", "Gelu", "Identity", "Dropout", "Softmax", "LogSoftmax", "PRelu", "Neg", "Abs", "Exp", "Sqrt",
             "Softplus", "Softsign", "Mish", "Erf", "Log", "Reciprocal", "InstanceNormalization":
            set(x)
            if node.opType == "Identity", let c = constant(0) { constants[node.outputs[0]] = c }
        case "LayerNormalization":
            guard let x else { return }
            var axis = node.int("axis") ?? -1
            if axis < 0 { axis += x.count }
            guard axis >= 0, axis < x.count else { return }
            set(x)
            for slot in [1, 2] { set(x.indices.map { $0 < axis ? x[$0] : 1 }, slot) }  // Mean, InvStdDev
        case "Add", "Sub", "Mul", "Div":
            let present = ins.compactMap { $0 }
            guard present.count == node.inputs.count, let out = Self.broadcast(present) else { return }
            set(out)
            if let a = constant(0), let b = constant(1), a.count == b.count || a.count == 1 || b.count == 1 {
                let n = max(a.count, b.count)
                let f: (Int64, Int64) -> Int64 = switch node.opType {
                case "Add": (+)
                case "Sub": (-)
                case "Mul": (*)
                default: { $1 == 0 ? 0 : $0 / $1 }
                }
                constants[node.outputs[0]] = (0..<n).map { f(a[a.count == 1 ? 0 : $0], b[b.count == 1 ? 0 : $0]) }
            }
        case "Pow":
            guard let x, let e = ins.count > 1 ? ins[1] : nil else { return }
            set(Self.broadcast([x, e]))
        case "Resize", "Upsample", "Pad":
            set(spatialOutputShape(node, input: x, graph: graph))
        case "Concat":
            let present = ins.compactMap { $0 }
            guard present.count == node.inputs.count, let first = present.first, let axis0 = node.int("axis") else { return }
            let axis = axis0 < 0 ? axis0 + first.count : axis0
            guard axis >= 0, axis < first.count else { return }
            var out = first
            out[axis] = present.map { $0.count == first.count ? $0[axis] : 0 }.reduce(0, +)
            set(out)
            let parts = node.inputs.map { constants[$0] }
            if parts.allSatisfy({ $0 != nil }) { constants[node.outputs[0]] = parts.flatMap { $0! } }
        case "Flatten":
            guard let x else { return }
            var axis = node.int("axis") ?? 1
            if axis < 0 { axis += x.count }
            guard axis >= 0, axis <= x.count else { return }
            set([x[..<axis].reduce(1, *), x[axis...].reduce(1, *)])
        case "Reshape":
            guard let x, let target = constant(1) else { return }
            if let out = Self.reshape(x, target: target.map(Int.init), allowZero: node.int("allowzero") == 1) { set(out) }
        case "Gemm":
            guard let a = x, let b = ins.count > 1 ? ins[1] : nil, a.count == 2, b.count == 2 else { return }
            let m = node.int("transA") == 1 ? a[1] : a[0]
            let n = node.int("transB") == 1 ? b[0] : b[1]
            set([m, n])
        case "MatMul":
            guard let a = x, let b = ins.count > 1 ? ins[1] : nil, a.count >= 2, b.count >= 2 else { return }
            let batch = Self.broadcast([Array(a.dropLast(2)), Array(b.dropLast(2))]) ?? []
            set(batch + [a[a.count - 2], b[b.count - 1]])
        case "ReduceMean", "ReduceMax", "ReduceSum", "ReduceMin":
            guard let x, let axes = Self.reduceAxes(node, rank: x.count, constants: self) else { return }
            let reduced = axes.isEmpty && node.int("noop_with_empty_axes") != 1 ? Set(x.indices) : Set(axes)
            if node.int("keepdims") ?? 1 == 1 {
                set(x.indices.map { reduced.contains($0) ? 1 : x[$0] })
            } else {
                set(x.indices.filter { !reduced.contains($0) }.map { x[$0] })
            }
        case "Constant":
            if let t = node.tensor("value") {
                set(t.shape)
                if !t.dtype.isFloatingPoint && t.count <= 64 { constants[node.outputs[0]] = t.int64s() }
            } else if let v = node.ints("value_ints") {
                set([v.count]); constants[node.outputs[0]] = v.map(Int64.init)
            } else if let v = node.int("value_int") {
                set([]); constants[node.outputs[0]] = [Int64(v)]
            }
        case "Shape":
            guard let x else { return }
            var start = node.int("start") ?? 0
            var end = node.int("end") ?? x.count
            if start < 0 { start += x.count }
            if end < 0 { end += x.count }
            start = max(0, min(start, x.count)); end = max(start, min(end, x.count))
            let dims = x[start..<end].map(Int64.init)
            set([dims.count]); constants[node.outputs[0]] = dims
        case "Gather":
            guard let data = constant(0), let idx = constant(1), let idxShape = ins.count > 1 ? ins[1] : nil,
                  (node.int("axis") ?? 0) == 0 else {
                // Of an activation: the indices' shape replaces the gathered axis.
                guard let x, let idxShape = ins.count > 1 ? ins[1] : nil else { return }
                var axis = node.int("axis") ?? 0
                if axis < 0 { axis += x.count }
                guard axis >= 0, axis < x.count else { return }
                return set(Array(x[..<axis]) + idxShape + Array(x[(axis + 1)...]))
            }
            let picked = idx.map { Int($0) < 0 ? Int($0) + data.count : Int($0) }
            guard picked.allSatisfy({ $0 >= 0 && $0 < data.count }) else { return }
            set(idxShape); constants[node.outputs[0]] = picked.map { data[$0] }
        case "Unsqueeze", "Squeeze":
            guard let x else { return }
            let axes = node.ints("axes") ?? constant(1).map { $0.map(Int.init) }
            if node.opType == "Unsqueeze" {
                guard let axes else { return }
                var out = x
                let rank = x.count + axes.count
                for a in axes.map({ $0 < 0 ? $0 + rank : $0 }).sorted() where a <= out.count { out.insert(1, at: a) }
                set(out)
            } else {
                let drop = Set((axes ?? x.indices.filter { x[$0] == 1 }).map { $0 < 0 ? $0 + x.count : $0 })
                set(x.indices.filter { !drop.contains($0) }.map { x[$0] })
            }
            if let c = constant(0) { constants[node.outputs[0]] = c }
        case "Cast":
            set(x)
            if let c = constant(0) { constants[node.outputs[0]] = c }
        case "Transpose", "Split":
            for (slot, s) in movementShapes(node, input: x, opset: graph.model.defaultOpset).enumerated() { set(s, slot) }
        case "Slice":
            guard let data = constant(0), data.count == (x?.reduce(1, *) ?? -1), x?.count == 1,
                  let starts = constant(1), let ends = constant(2), starts.count == 1, ends.count == 1 else {
                return set(movementShapes(node, input: x, opset: graph.model.defaultOpset).first ?? nil)
            }
            let n = Int64(data.count)
            func clamp(_ v: Int64) -> Int { Int(max(0, min(n, v < 0 ? v + n : v))) }
            let steps = constant(4) ?? [1]
            guard steps == [1] else { return }
            let s = clamp(starts[0]), e = clamp(ends[0])
            let out = s < e ? Array(data[s..<e]) : []
            set([out.count]); constants[node.outputs[0]] = out
        default:
            break
        }
    }

    /// Normalized axes of a Reduce* node: the attribute (older opsets) or the second input
    /// (ReduceSum from 13, the others from 18); empty means all axes. nil when not known.
    static func reduceAxes(_ node: Node, rank: Int?, constants: ShapeInference) -> [Int]? {
        guard let rank else { return nil }
        let raw: [Int]
        if let a = node.ints("axes") { raw = a }
        else if node.inputs.count > 1, !node.inputs[1].isEmpty {
            guard let c = constants.constants[node.inputs[1]] else { return nil }
            raw = c.map(Int.init)
        } else { raw = [] }
        let axes = raw.map { $0 < 0 ? $0 + rank : $0 }
        return axes.allSatisfy({ $0 >= 0 && $0 < rank }) ? axes : nil
    }

    /// Output length of a sliding window (conv or pool), by the kernels' own geometry; 0 when it does not fit.
    static func windowOutput(size: Int, kernel: Int, stride: Int, dilation: Int, padBegin: Int, padEnd: Int,
                             autoPad: String?, ceil: Bool) -> Int {
        let mode = AutoPad(rawValue: autoPad ?? "NOTSET") ?? .notSet
        return (try? WindowAxis(input: size, kernel: kernel, stride: stride, dilation: dilation, padBegin: padBegin,
                                padEnd: padEnd, autoPad: mode, ceilMode: ceil))?.output ?? 0
    }

    /// Numpy-style broadcast of several shapes, nil when they do not broadcast.
    public static func broadcast(_ shapes: [[Int]]) -> [Int]? {
        let rank = shapes.map(\.count).max() ?? 0
        var out = Array(repeating: 1, count: rank)
        for s in shapes {
            for (i, d) in s.enumerated() {
                let o = rank - s.count + i
                if out[o] == 1 { out[o] = d } else if d != 1 && d != out[o] { return nil }
            }
        }
        return out
    }

    /// ONNX Reshape: 0 copies the input's dimension (unless allowzero), -1 is inferred.
    public static func reshape(_ input: [Int], target: [Int], allowZero: Bool) -> [Int]? {
        var out = target
        for (i, d) in target.enumerated() where d == 0 && !allowZero {
            guard i < input.count else { return nil }
            out[i] = input[i]
        }
        guard let total = elementCount(input) else { return nil }
        let inferred = out.indices.filter { out[$0] == -1 }
        guard inferred.count <= 1, out.allSatisfy({ $0 >= -1 }), let known = elementCount(out.filter { $0 != -1 }) else { return nil }
        if let i = inferred.first {
            guard known > 0, total % known == 0 else { return nil }
            out[i] = total / known
        }
        return out.reduce(1, *) == total ? out : nil
    }
}

extension Graph {
    /// Node indices so that every node comes after the producers of its inputs; nodes in a
    /// cycle or fed by an undefined value keep their relative file order at the end.
    public func topologicalOrder() -> [Int] {
        let produced = producers()
        var indegree = Array(repeating: 0, count: nodes.count)
        var dependents = Array(repeating: [Int](), count: nodes.count)
        for (i, node) in nodes.enumerated() {
            for v in Set(node.inputs) where !v.isEmpty {
                if let p = produced[v], p != i { indegree[i] += 1; dependents[p].append(i) }
            }
        }
        var ready = (0..<nodes.count).filter { indegree[$0] == 0 }.reversed() as [Int]
        var order: [Int] = []
        order.reserveCapacity(nodes.count)
        while let i = ready.popLast() {
            order.append(i)
            for d in dependents[i] {
                indegree[d] -= 1
                if indegree[d] == 0 { ready.append(d) }
            }
            ready.sort(by: >)
        }
        if order.count < nodes.count {
            let placed = Set(order)
            order += (0..<nodes.count).filter { !placed.contains($0) }
        }
        return order
    }
}
