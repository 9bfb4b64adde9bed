import Testing
@testable import PruneKit

/// Pad, InstanceNormalization and LayerNormalization through the interpreter against hand-worked values.
@Suite struct KernelPadNormTests {
    /// One node over initializers (named "in0", "in1", …; nil for an omitted input).
    func run(_ op: String, _ operands: [Tensor?], attributes: [Attribute] = [], opset: Int = 19) throws -> (shape: [Int], values: [Float]) {
        let names = operands.indices.map { operands[$0] == nil ? "" : "in\($0)" }
        let initializers = operands.indices.compactMap { i in operands[i].map { ("in\(i)", $0) } }
        var g = Graph(name: op, nodes: [Node(name: "n", opType: op, inputs: names, outputs: ["y"], attributes: attributes)],
                      initializers: initializers, outputs: [ValueInfo(name: "y", shape: nil)])
        g.model.opsets = [Opset(domain: "", version: opset)]
        let y = try #require(try Interpreter().run(g, inputs: [:])["y"])
        #expect(ShapeInference(graph: g).shape("y") == y.shape)
        return (y.shape, y.floats())
    }

    static let row = Tensor(shape: [1, 1, 3], floats: [1, 2, 3])
    static func ints(_ v: [Int64]) -> Tensor { Tensor(shape: [v.count], int64s: v) }
    static func mode(_ m: String) -> [Attribute] { [Attribute("mode", .string(m))] }

    @Test func padModesAlongOneAxis() throws {
        let pads = Self.ints([0, 0, 2, 0, 0, 2])
        #expect(try run("Pad", [Self.row, pads, Tensor(shape: [], floats: [9])]).values == [9, 9, 1, 2, 3, 9, 9])
        #expect(try run("Pad", [Self.row, pads], attributes: Self.mode("reflect")).values == [3, 2, 1, 2, 3, 2, 1])
        #expect(try run("Pad", [Self.row, pads], attributes: Self.mode("edge")).values == [1, 1, 1, 2, 3, 3, 3])
        #expect(try run("Pad", [Self.row, pads], attributes: Self.mode("wrap")).values == [2, 3, 1, 2, 3, 1, 2])
        // A negative pad crops.
        #expect(try run("Pad", [Self.row, Self.ints([0, 0, -1, 0, 0, 1])], attributes: Self.mode("edge")).values == [2, 3, 3])
        // Opset 18 axes: pads for the listed axes only.
        let axes = try run("Pad", [Self.row, Self.ints([1, 1]), nil, Self.ints([-1])])
        #expect(axes.shape == [1, 1, 5] && axes.values == [0, 1, 2, 3, 0])
        // Opset 2: pads and value are attributes.
        let legacy = try run("Pad", [Self.row], attributes: [Attribute("pads", .ints([0, 0, 1, 0, 0, 0])), Attribute("value", .float(-1))],
                             opset: 2)
        #expect(legacy.values == [-1, 1, 2, 3])
    }

    @Test func reflectPadOfASquare() throws {
        let square = Tensor(shape: [1, 1, 2, 2], floats: [1, 2, 3, 4])
        let y = try run("Pad", [square, Self.ints([0, 0, 1, 1, 0, 0, 1, 1])], attributes: Self.mode("reflect"))
        #expect(y.shape == [1, 1, 4, 4] && y.values == [4, 3, 4, 3, 2, 1, 2, 1, 4, 3, 4, 3, 2, 1, 2, 1])
    }

    @Test func padRefusesAnUnknownMode() {
        #expect(throws: ForwardError.self) { try run("Pad", [Self.row, Self.ints([0, 0, 1, 0, 0, 1])], attributes: Self.mode("mirror")) }
    }

    @Test func instanceNormalizationUsesEachSamplesOwnStatistics() throws {
        // Sample 0: channel 0 is [1, 3] (mean 2, variance 1), channel 1 is constant 5.
        // Sample 1: channel 0 is [0, 4] (mean 2, variance 4), channel 1 is [−1, 1].
        let x = Tensor(shape: [2, 2, 2], floats: [1, 3, 5, 5, 0, 4, -1, 1])
        let scale = Tensor(shape: [2], floats: [2, 3]), bias = Tensor(shape: [2], floats: [0.5, -1])
        let withEpsilon = try run("InstanceNormalization", [x, scale, bias], attributes: [Attribute("epsilon", .float(1e-5))])
        #expect(KernelFixtures.maxDifference(withEpsilon.values, [-1.5, 2.5, -1, -1, -1.5, 2.5, -4, 2]) <= 1e-4)
    }

    @Test func layerNormalizationNormalizesEachRow() throws {
        // Row [1, 2, 3]: mean 2, variance 2/3; row [0, 0, 6]: mean 2, variance 8.
        let x = Tensor(shape: [2, 3], floats: [1, 2, 3, 0, 0, 6])
        let scale = Tensor(shape: [3], floats: [1, 2, -1]), bias = Tensor(shape: [3], floats: [0, 1, 0.5])
        let a = 1.5.squareRoot(), b = 0.5.squareRoot()
        let expected = [-a, 1, 0.5 - a, -b, 1 - 2 * b, 0.5 - 2 * b].map { Float($0) }
        let y = try run("LayerNormalization", [x, scale, bias], attributes: [Attribute("epsilon", .float(1e-7))])
        #expect(y.shape == [2, 3] && KernelFixtures.maxDifference(y.values, expected) <= 1e-5)
        // Over axes 1 and 2 of [2, 1, 3] the rows are the same; without a bias, none is added.
        let x3 = Tensor(shape: [2, 1, 3], floats: [1, 2, 3, 0, 0, 6])
        let noBias = try run("LayerNormalization", [x3, Tensor(shape: [1, 3], floats: [1, 2, -1])],
                             attributes: [Attribute("axis", .int(1)), Attribute("epsilon", .float(1e-7))])
        #expect(KernelFixtures.maxDifference(noBias.values, [-a, 0, -a, -b, -2 * b, -2 * b].map { Float($0) }) <= 1e-5)
        let r = try layerNormalization(NDArray(shape: [2, 3], storage: [1, 2, 3, 0, 0, 6]), scale: NDArray(shape: [3], storage: [1, 1, 1]),
                                       bias: nil, epsilon: 0)
        #expect(r.mean.shape == [2, 1] && r.mean.storage == [2, 2])
        #expect(KernelFixtures.maxDifference(r.invStdDev.storage, [Float(a), Float(1 / 8.0.squareRoot())]) <= 1e-6)
    }

    @Test func layerNormalizationRefusesAScaleOfAnotherShape() {
        #expect(throws: (any Error).self) {
            try run("LayerNormalization", [Tensor(shape: [2, 3], floats: [1, 2, 3, 4, 5, 6]), Tensor(shape: [2], floats: [1, 1])])
        }
    }
}
