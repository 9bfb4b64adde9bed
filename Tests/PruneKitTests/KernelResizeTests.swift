import Testing
@testable import PruneKit

/// Resize and Upsample through the interpreter (attribute parsing included) against values
/// worked out by hand from the ONNX coordinate formulas.
@Suite struct KernelResizeTests {
    static let square: [Float] = [1, 2, 3, 4]  // [[1, 2], [3, 4]]

    /// One Resize (or Upsample) node over `x`, its constant inputs as initializers.
    func run(_ x: [Float], shape: [Int], op: String = "Resize", attributes: [Attribute] = [], scales: [Float]? = nil,
             sizes: [Int]? = nil, opset: Int = 19) throws -> (shape: [Int], values: [Float]) {
        var inputs = ["x"]
        var initializers: [(String, Tensor)] = [("x", Tensor(shape: shape, floats: x))]
        if op == "Upsample" || opset < 11 {
            if let scales { inputs.append("scales"); initializers.append(("scales", Tensor(shape: [scales.count], floats: scales))) }
        } else {
            inputs += ["", scales == nil ? "" : "scales"]
            if let scales { initializers.append(("scales", Tensor(shape: [scales.count], floats: scales))) }
            if let sizes { inputs.append("sizes"); initializers.append(("sizes", Tensor(shape: [sizes.count], int64s: sizes.map(Int64.init)))) }
        }
        var g = Graph(name: "resize", nodes: [Node(name: "up", opType: op, inputs: inputs, outputs: ["y"], attributes: attributes)],
                      initializers: initializers, outputs: [ValueInfo(name: "y", shape: nil)])
        g.model.opsets = [Opset(domain: "", version: opset)]
        let y = try #require(try Interpreter().run(g, inputs: [:])["y"])
        // Shape inference reads the same node to the same output shape.
        #expect(ShapeInference(graph: g).shape("y") == y.shape)
        return (y.shape, y.floats())
    }

    func mode(_ m: String, _ transform: String? = nil, nearest: String? = nil) -> [Attribute] {
        var a = [Attribute("mode", .string(m))]
        if let transform { a.append(Attribute("coordinate_transformation_mode", .string(transform))) }
        if let nearest { a.append(Attribute("nearest_mode", .string(nearest))) }
        return a
    }

    func close(_ a: [Float], _ b: [Float]) -> Bool { KernelFixtures.maxDifference(a, b) <= 1e-5 }

    @Test func nearestTwoByTwoToFourByFour() throws {
        let blocks: [Float] = [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]
        // half_pixel: sources −0.25, 0.25, 0.75, 1.25 round to 0, 0, 1, 1.
        let halfPixel = try run(Self.square, shape: [1, 1, 2, 2], attributes: mode("nearest"), scales: [1, 1, 2, 2])
        #expect(halfPixel.shape == [1, 1, 4, 4] && halfPixel.values == blocks)
        // asymmetric: sources 0, 0.5, 1, 1.5; ties go down with round_prefer_floor, up with round_prefer_ceil.
        #expect(try run(Self.square, shape: [1, 1, 2, 2], attributes: mode("nearest", "asymmetric"), scales: [1, 1, 2, 2]).values == blocks)
        let ceil = try run(Self.square, shape: [1, 1, 2, 2], attributes: mode("nearest", "asymmetric", nearest: "round_prefer_ceil"),
                           scales: [1, 1, 2, 2])
        #expect(ceil.values == [1, 2, 2, 2, 3, 4, 4, 4, 3, 4, 4, 4, 3, 4, 4, 4])
        // Upsample (opset 9) and Resize-10: asymmetric, floor.
        #expect(try run(Self.square, shape: [1, 1, 2, 2], op: "Upsample", scales: [1, 1, 2, 2], opset: 9).values == blocks)
        #expect(try run(Self.square, shape: [1, 1, 2, 2], attributes: mode("nearest"), scales: [1, 1, 2, 2], opset: 10).values == blocks)
        // align_corners: sources 0, 1/3, 2/3, 1.
        #expect(try run(Self.square, shape: [1, 1, 2, 2], attributes: mode("nearest", "align_corners"), sizes: [1, 1, 4, 4]).values == blocks)
    }

    @Test func bilinearTwoByTwoToFourByFour() throws {
        // asymmetric: sources 0, 0.5, 1, 1.5 (clamped to 1).
        let asymmetric = try run(Self.square, shape: [1, 1, 2, 2], attributes: mode("linear", "asymmetric"), scales: [1, 1, 2, 2])
        #expect(close(asymmetric.values, [1, 1.5, 2, 2, 2, 2.5, 3, 3, 3, 3.5, 4, 4, 3, 3.5, 4, 4]))
        // half_pixel: sources −0.25 (clamped to 0), 0.25, 0.75, 1.25 (clamped to 1).
        let halfPixel: [Float] = [1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3, 3.25, 3.75, 4]
        #expect(close(try run(Self.square, shape: [1, 1, 2, 2], attributes: mode("linear"), scales: [1, 1, 2, 2]).values, halfPixel))
        #expect(close(try run(Self.square, shape: [1, 1, 2, 2], attributes: mode("linear", "pytorch_half_pixel"), sizes: [1, 1, 4, 4]).values,
                      halfPixel))
        // align_corners: sources 0, 1/3, 2/3, 1.
        let third: Float = 1.0 / 3
        let aligned = try run(Self.square, shape: [1, 1, 2, 2], attributes: mode("linear", "align_corners"), sizes: [1, 1, 4, 4])
        #expect(close(aligned.values, [1, 1 + third, 2 - third, 2, 2 - third, 2, 2 + third, 3 - third,
                                       2 + third, 3 - third, 3, 3 + third, 3, 3 + third, 4 - third, 4]))
        // Upsample linear (opset 9): asymmetric like Resize-10.
        #expect(close(try run(Self.square, shape: [1, 1, 2, 2], op: "Upsample", attributes: mode("linear"), scales: [1, 1, 2, 2],
                              opset: 9).values, asymmetric.values))
    }

    @Test func coordinateModesDifferWhenShrinking() throws {
        let row: [Float] = [1, 2, 3, 4]
        // 4 → 2 (scale ½): half_pixel reads 0.5 and 2.5, asymmetric 0 and 2, align_corners 0 and 3.
        #expect(close(try run(row, shape: [1, 1, 4], attributes: mode("linear"), scales: [1, 1, 0.5]).values, [1.5, 3.5]))
        #expect(close(try run(row, shape: [1, 1, 4], attributes: mode("linear", "asymmetric"), scales: [1, 1, 0.5]).values, [1, 3]))
        #expect(close(try run(row, shape: [1, 1, 4], attributes: mode("linear", "align_corners"), sizes: [1, 1, 2]).values, [1, 4]))
        // 4 → 1: half_pixel reads 1.5, pytorch_half_pixel reads 0.
        #expect(close(try run(row, shape: [1, 1, 4], attributes: mode("linear"), sizes: [1, 1, 1]).values, [2.5]))
        #expect(close(try run(row, shape: [1, 1, 4], attributes: mode("linear", "pytorch_half_pixel"), sizes: [1, 1, 1]).values, [1]))
        // A scale that does not divide: ⌊3 · 1.5⌋ = 4 outputs, sources x / 1.5 = 0, 0.67, 1.33, 2.
        let odd = try run([1, 2, 3], shape: [1, 1, 3], attributes: mode("nearest", "asymmetric", nearest: "floor"), scales: [1, 1, 1.5])
        #expect(odd.shape == [1, 1, 4] && odd.values == [1, 1, 2, 3])
    }

    @Test func axesListOnlyTheResizedAxes() throws {
        let y = try run(Self.square, shape: [1, 1, 2, 2], attributes: mode("nearest") + [Attribute("axes", .ints([2, 3]))], scales: [2, 2])
        #expect(y.shape == [1, 1, 4, 4] && y.values == [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4])
    }

    @Test func cubicAndCropAndResizeAreRefusedNamingTheNodeAndAttribute() {
        for attributes in [mode("cubic"), mode("linear", "tf_crop_and_resize")] {
            do {
                _ = try run(Self.square, shape: [1, 1, 2, 2], attributes: attributes, scales: [1, 1, 2, 2])
                Issue.record("\(attributes) ran")
            } catch {
                let message = "\(error)"
                // "unsupported" contains "up" too: the node is named as "node up (Resize)".
                #expect(message.contains("node up (Resize)") && (message.contains("cubic") || message.contains("tf_crop_and_resize")), "\(message)")
            }
        }
    }
}
