import Testing
@testable import PruneKit

@Suite struct KernelLayoutTests {
    @Test func gemmNodeWithTransBAndBroadcastC() throws {
        let a = KernelFixtures.array([2, 3], [1, 2, 3, 4, 5, 6])
        let b = KernelFixtures.array([2, 3], [1, 0, 1, 0, 1, 0])  // N×K, used transposed
        let y = try gemm(a, b, c: KernelFixtures.array([2], [10, 20]), alpha: 2, beta: 0.5, transB: true)
        #expect(y.shape == [2, 2])
        // A·Bᵀ = [[4, 2], [10, 5]]
        #expect(y.storage == [13, 14, 25, 20])
        let scalarC = try gemm(a, b, c: NDArray(scalar: 1), transB: true)
        #expect(scalarC.storage == [5, 3, 11, 6])
        let columnC = try gemm(a, b, c: KernelFixtures.array([2, 1], [1, 2]), transB: true)
        #expect(columnC.storage == [5, 3, 12, 7])
        let transA = try gemm(KernelFixtures.array([3, 2], [1, 4, 2, 5, 3, 6]), b, transA: true, transB: true)
        #expect(transA.storage == [4, 2, 10, 5])
        #expect(throws: KernelError.self) { try gemm(a, b) }
        #expect(throws: KernelError.self) { try gemm(a, b, c: KernelFixtures.array([3], [1, 2, 3]), transB: true) }
    }

    @Test func matmulBatchedBroadcastAndVectors() throws {
        let a = KernelFixtures.random([2, 1, 3, 4], seed: 41)
        let b = KernelFixtures.random([3, 4, 5], seed: 42)
        let y = try matmul(a, b)
        #expect(y.shape == [2, 3, 3, 5])
        for i in 0..<2 {
            for j in 0..<3 {
                let ai = Array(a.storage[(i * 12)..<(i * 12 + 12)])
                let bj = Array(b.storage[(j * 20)..<(j * 20 + 20)])
                let expected = KernelGEMMTests.naive(transA: false, transB: false, m: 3, n: 5, k: 4, alpha: 1,
                                                     a: ai, b: bj, beta: 0, c: [Float](repeating: 0, count: 15))
                let got = Array(y.storage[((i * 3 + j) * 15)..<((i * 3 + j) * 15 + 15)])
                #expect(KernelFixtures.maxDifference(got, expected) < 1e-5)
            }
        }
        let stacked = try matmul(KernelFixtures.array([2, 1, 2], [1, 2, 3, 4]), KernelFixtures.array([2, 2], [1, 1, 0, 1]))
        #expect(stacked.shape == [2, 1, 2])
        #expect(stacked.storage == [1, 3, 3, 7])
        let v = KernelFixtures.array([2], [1, 2])
        #expect(try matmul(v, KernelFixtures.array([2, 3], [1, 2, 3, 4, 5, 6])).shape == [3])
        #expect(try matmul(KernelFixtures.array([3, 2], [1, 2, 3, 4, 5, 6]), v).storage == [5, 11, 17])
        #expect(try matmul(v, v).shape == [])
        #expect(throws: KernelError.self) { try matmul(a, KernelFixtures.random([3, 5, 5], seed: 1)) }
    }

    @Test func flattenAndReshape() throws {
        let x = KernelFixtures.random([2, 3, 4, 5], seed: 51)
        #expect(try x.flattened().shape == [2, 60])
        #expect(try x.flattened(axis: 0).shape == [1, 120])
        #expect(try x.flattened(axis: 4).shape == [120, 1])
        #expect(try x.flattened(axis: -1).shape == [24, 5])
        #expect(try x.flattened().storage == x.storage)
        #expect(throws: KernelError.self) { try x.flattened(axis: 5) }

        #expect(try x.reshaped(to: [0, -1]).shape == [2, 60])
        #expect(try x.reshaped(to: [0, 0, -1]).shape == [2, 3, 20])
        #expect(try x.reshaped(to: [-1, 5, 1]).shape == [24, 5, 1])
        let empty = try NDArray<Float>(shape: [0, 4], storage: [])
        #expect(try empty.reshaped(to: [0, 2, 2], allowZero: true).shape == [0, 2, 2])
        // As in PyTorch, −1 is ambiguous when the other dimensions hold no values.
        #expect(throws: KernelError.self) { try empty.reshaped(to: [0, -1]) }
        #expect(throws: KernelError.self) { try x.reshaped(to: [7, -1]) }
        #expect(throws: KernelError.self) { try x.reshaped(to: [-1, -1]) }
        #expect(throws: KernelError.self) { try x.reshaped(to: [2, 3]) }
        #expect(throws: KernelError.self) { try x.reshaped(to: [-2, 60]) }
    }

    @Test func squeezeUnsqueezeTranspose() throws {
        let x = KernelFixtures.array([1, 2, 1, 3], [1, 2, 3, 4, 5, 6])
        #expect(try x.squeezed().shape == [2, 3])
        #expect(try x.squeezed(axes: [-2]).shape == [1, 2, 3])
        #expect(throws: KernelError.self) { try x.squeezed(axes: [1]) }
        #expect(try x.unsqueezed(axes: [0, -1]).shape == [1, 1, 2, 1, 3, 1])
        let m = KernelFixtures.array([2, 3], [1, 2, 3, 4, 5, 6])
        #expect(try m.transposed().storage == [1, 4, 2, 5, 3, 6])
        let t = try KernelFixtures.random([2, 3, 4], seed: 52).transposed([1, 2, 0])
        #expect(t.shape == [3, 4, 2])
        #expect(try t.transposed([2, 0, 1]) == KernelFixtures.random([2, 3, 4], seed: 52))
        #expect(throws: KernelError.self) { try m.transposed([0, 0]) }
    }

    @Test func gatherSliceConcat() throws {
        let m = KernelFixtures.array([3, 4], (0..<12).map(Float.init))
        let rows = try m.gathered(indices: NDArray(shape: [2], storage: [2, -3]), axis: 0)
        #expect(rows.storage == [8, 9, 10, 11, 0, 1, 2, 3])
        let cols = try m.gathered(indices: NDArray(scalar: 1), axis: 1)
        #expect(cols.shape == [3])
        #expect(cols.storage == [1, 5, 9])
        #expect(throws: KernelError.self) { try m.gathered(indices: NDArray(scalar: 4), axis: 1) }

        #expect(try m.sliced(starts: [1], ends: [Int.max], axes: [1]).storage == [1, 2, 3, 5, 6, 7, 9, 10, 11])
        #expect(try m.sliced(starts: [-1, 0], ends: [-4, 4], axes: [0, 1], steps: [-2, 3]).storage == [8, 11, 0, 3])
        #expect(try m.sliced(starts: [2], ends: [1]).shape == [0, 4])
        #expect(try m.sliced(starts: [-100], ends: [100]).shape == [3, 4])
        #expect(throws: KernelError.self) { try m.sliced(starts: [0], ends: [1], axes: [0], steps: [0]) }

        let c = try NDArray.concatenated([m, KernelFixtures.array([3, 1], [-1, -2, -3])], axis: -1)
        #expect(c.shape == [3, 5])
        #expect(c.storage[0..<5] == [0, 1, 2, 3, -1])
        let shapes = try NDArray<Int64>.concatenated([NDArray(shape: [1], storage: [2]), NDArray(shape: [1], storage: [-1])], axis: 0)
        #expect(shapes.storage == [2, -1])
        #expect(throws: KernelError.self) { try NDArray.concatenated([m, KernelFixtures.array([2, 1], [0, 0])], axis: 1) }
    }

    @Test func reduceMean() throws {
        let x = KernelFixtures.array([2, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8])
        #expect(try x.reducedMean(axes: [1, 2]).storage == [2.5, 6.5])
        #expect(try x.reducedMean(axes: [1, 2]).shape == [2, 1, 1])
        #expect(try x.reducedMean(axes: [-1], keepDims: false).storage == [1.5, 3.5, 5.5, 7.5])
        #expect(try x.reducedMean(axes: nil, keepDims: false).storage == [4.5])
    }
}
