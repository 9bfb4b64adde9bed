import Foundation

/// ONNX `coordinate_transformation_mode`: where output coordinate x of an axis falls in the
/// input, given the axis' scale and lengths (ONNX Resize, opset 11–19).
public enum ResizeCoordinates: String, Sendable, CaseIterable {
    case halfPixel = "half_pixel"
    case halfPixelSymmetric = "half_pixel_symmetric"
    case pytorchHalfPixel = "pytorch_half_pixel"
    case alignCorners = "align_corners"
    case asymmetric
    case tfHalfPixelForNearest = "tf_half_pixel_for_nearest"

    /// In Float, as onnxruntime computes it, so that nearest-neighbour ties round alike.
    func source(_ x: Int, scale: Float, input: Int, output: Int) -> Float {
        let x = Float(x)
        switch self {
        case .halfPixel: return (x + 0.5) / scale - 0.5
        case .halfPixelSymmetric:
            let adjustment = Float(output) / (scale * Float(input))
            let center = Float(input) / 2
            return center * (1 - adjustment) + (x + 0.5) / scale - 0.5
        case .pytorchHalfPixel: return output > 1 ? (x + 0.5) / scale - 0.5 : 0
        case .alignCorners: return output == 1 ? 0 : x * Float(input - 1) / Float(output - 1)
        case .asymmetric: return x / scale
        case .tfHalfPixelForNearest: return (x + 0.5) / scale
        }
    }
}

/// ONNX `nearest_mode`; `simple` is opset ≤ 10's rule (Upsample, Resize-10) as onnxruntime
/// runs it: floor when enlarging, ceil when shrinking.
public enum ResizeNearest: String, Sendable, CaseIterable {
    case roundPreferFloor = "round_prefer_floor"
    case roundPreferCeil = "round_prefer_ceil"
    case floor, ceil, simple

    func index(_ x: Float, scale: Float) -> Int {
        switch self {
        case .roundPreferFloor: return Int(x - x.rounded(.down) == 0.5 ? x.rounded(.down) : x.rounded())
        case .roundPreferCeil: return Int(x - x.rounded(.down) == 0.5 ? x.rounded(.up) : x.rounded())
        case .floor: return Int(x.rounded(.down))
        case .ceil: return Int(x.rounded(.up))
        case .simple: return Int(scale < 1 ? x.rounded(.up) : x.rounded(.towardZero))
        }
    }
}

public enum ResizeMode: Sendable, Equatable {
    case nearest(ResizeNearest)
    /// Linear along each resized axis (bilinear in 2-D), the source clamped to the input.
    case linear
}

/// A Resize fully resolved for one input shape: per axis its scale (as the coordinate
/// transform uses it) and its output length.
public struct ResizeParameters: Sendable, Equatable {
    public var mode: ResizeMode
    public var coordinates: ResizeCoordinates
    public var scales: [Float]
    public var outputShape: [Int]

    public init(mode: ResizeMode, coordinates: ResizeCoordinates, scales: [Float], outputShape: [Int]) {
        self.mode = mode
        self.coordinates = coordinates
        self.scales = scales
        self.outputShape = outputShape
    }
}

/// One axis of a separable resize: output j reads `first[j]`·`w0[j]` + `second[j]`·`w1[j]`.
/// Nearest and linear interpolation are both products of per-axis weights, so resizing one
/// axis after another equals the N-D formula, and the backward is the transposed tables.
struct ResizeAxisTable {
    var first: [Int], second: [Int]
    var w0: [Float], w1: [Float]
    let input: Int

    init(input: Int, output: Int, scale: Float, mode: ResizeMode, coordinates: ResizeCoordinates) {
        self.input = input
        first = []; second = []; w0 = []; w1 = []
        for j in 0..<output {
            let x = coordinates.source(j, scale: scale, input: input, output: output)
            switch mode {
            case let .nearest(rule):
                let i = min(max(rule.index(x, scale: scale), 0), input - 1)
                first.append(i); second.append(i); w0.append(1); w1.append(0)
            case .linear:
                let clamped = min(max(x, 0), Float(input - 1))
                let i = min(Int(clamped), input - 1)
                let f = clamped - Float(i)
                first.append(i); second.append(min(i + 1, input - 1)); w0.append(1 - f); w1.append(f)
            }
        }
    }

    var isIdentity: Bool {
        first.count == input && first.indices.allSatisfy { first[$0] == $0 && w0[$0] == 1 && w1[$0] == 0 }
    }
}

extension ResizeParameters {
    func tables(for inputShape: [Int]) throws -> [ResizeAxisTable] {
        guard inputShape.count == outputShape.count, scales.count == inputShape.count else {
            throw KernelError.shape("Resize of \(inputShape) to \(outputShape) with \(scales.count) scales")
        }
        guard !inputShape.contains(0) || inputShape == outputShape else { throw KernelError.shape("Resize of an empty input \(inputShape)") }
        _ = try resultCount(outputShape)
        return inputShape.indices.map {
            ResizeAxisTable(input: inputShape[$0], output: outputShape[$0], scale: scales[$0], mode: mode, coordinates: coordinates)
        }
    }
}

/// `x` resized (ONNX Resize / Upsample with nearest or linear mode).
public func resize(_ x: NDArray<Float>, _ p: ResizeParameters) throws -> NDArray<Float> {
    var y = x
    for (axis, table) in try p.tables(for: x.shape).enumerated() where !table.isIdentity {
        var shape = y.shape
        let outer = shape[..<axis].reduce(1, *), inner = shape[(axis + 1)...].reduce(1, *)
        let n = table.first.count
        shape[axis] = n
        var out = [Float](repeating: 0, count: outer * n * inner)
        y.storage.withUnsafeBufferPointer { src in
            for o in 0..<outer {
                for j in 0..<n {
                    let a = (o * table.input + table.first[j]) * inner, b = (o * table.input + table.second[j]) * inner
                    let (w0, w1) = (table.w0[j], table.w1[j])
                    let base = (o * n + j) * inner
                    for k in 0..<inner { out[base + k] = w0 * src[a + k] + w1 * src[b + k] }
                }
            }
        }
        y = NDArray(uncheckedShape: shape, storage: out)
    }
    return y
}

/// The gradient of `resize(x, p)` for an input of `inputShape`: each output gradient goes back
/// to the input elements it was interpolated from, in proportion to their weights.
public func resizeBackward(gradOutput dy: NDArray<Float>, inputShape: [Int], _ p: ResizeParameters) throws -> NDArray<Float> {
    guard dy.shape == p.outputShape else { throw KernelError.shape("output gradient \(dy.shape) does not match \(p.outputShape)") }
    var g = dy
    for (axis, table) in try p.tables(for: inputShape).enumerated().reversed() where !table.isIdentity {
        var shape = g.shape
        let outer = shape[..<axis].reduce(1, *), inner = shape[(axis + 1)...].reduce(1, *)
        let n = table.first.count
        shape[axis] = table.input
        var dx = [Float](repeating: 0, count: outer * table.input * inner)
        g.storage.withUnsafeBufferPointer { src in
            for o in 0..<outer {
                for j in 0..<n {
                    let a = (o * table.input + table.first[j]) * inner, b = (o * table.input + table.second[j]) * inner
                    let (w0, w1) = (table.w0[j], table.w1[j])
                    let base = (o * n + j) * inner
                    for k in 0..<inner {
                        dx[a + k] += w0 * src[base + k]
                        dx[b + k] += w1 * src[base + k]
                    }
                }
            }
        }
        g = NDArray(uncheckedShape: shape, storage: dx)
    }
    return g
}
