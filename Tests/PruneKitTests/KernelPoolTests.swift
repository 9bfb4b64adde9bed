import Testing
@testable import PruneKit

@Suite struct KernelPoolTests {
    static let grid = KernelFixtures.array([1, 1, 4, 4], [
        1, 5, 2, 0,
        3, 4, 8, 1,
        0, -1, 6, 7,
        9, 2, 3, -5,
    ])

    @Test func maxPoolTwoByTwo() throws {
        let (y, idx) = try maxPool2d(Self.grid, Pool2DParameters(kernel: [2, 2], strides: [2, 2]))
        #expect(y.shape == [1, 1, 2, 2])
        #expect(y.storage == [5, 8, 9, 7])
        #expect(idx.storage == [1, 6, 12, 11])
        let (_, columnMajor) = try maxPool2d(Self.grid, Pool2DParameters(kernel: [2, 2], strides: [2, 2]), columnMajorIndices: true)
        #expect(columnMajor.storage == [4, 9, 3, 14])
    }

    @Test func maxPoolPaddingNeverWins() throws {
        let negative = KernelFixtures.array([1, 1, 2, 2], [-4, -3, -2, -1])
        let (y, _) = try maxPool2d(negative, Pool2DParameters(kernel: [2, 2], pads: [1, 1, 1, 1]))
        #expect(y.storage == [-4, -3, -3, -2, -1, -1, -2, -1, -1])
    }

    @Test func maxPoolDilation() throws {
        let (y, _) = try maxPool2d(Self.grid, Pool2DParameters(kernel: [2, 2], dilations: [2, 2]))
        // Taps (0,0),(0,2),(2,0),(2,2) of each 3×3 span.
        #expect(y.storage == [6, 7, 9, 4])
    }

    @Test func ceilModeAddsPartialWindowButNotOneInPadding() throws {
        let x = KernelFixtures.random([1, 2, 5, 5], seed: 5)
        let (floor, _) = try maxPool2d(x, Pool2DParameters(kernel: [2, 2], strides: [2, 2]))
        let (ceil, _) = try maxPool2d(x, Pool2DParameters(kernel: [2, 2], strides: [2, 2], ceilMode: true))
        #expect(floor.shape == [1, 2, 2, 2])
        #expect(ceil.shape == [1, 2, 3, 3])
        // The last window holds only input column 4 / row 4.
        #expect(ceil.storage[8] == x.storage[24])
        // Input 5, kernel 2, stride 2, pad 1 each side: ⌈(7 − 2)/2⌉ + 1 = 4 windows, but the
        // fourth would start in the end padding, so there are 3 (as in PyTorch).
        let (y, _) = try maxPool2d(KernelFixtures.random([1, 1, 5, 5], seed: 6),
                                   Pool2DParameters(kernel: [2, 2], strides: [2, 2], pads: [1, 1, 1, 1], ceilMode: true))
        #expect(y.shape == [1, 1, 3, 3])
    }

    @Test func averagePoolCountIncludePad() throws {
        let x = KernelFixtures.array([1, 1, 3, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9])
        let exclude = try averagePool2d(x, Pool2DParameters(kernel: [3, 3], pads: [1, 1, 1, 1]))
        let include = try averagePool2d(x, Pool2DParameters(kernel: [3, 3], pads: [1, 1, 1, 1], countIncludePad: true))
        #expect(exclude.shape == [1, 1, 3, 3])
        #expect(exclude.storage[0] == 3)  // (1 + 2 + 4 + 5) / 4
        #expect(exclude.storage[4] == 5)
        #expect(include.storage[0] == Float(12) / 9)  // (1 + 2 + 4 + 5) / 9
        #expect(include.storage[1] == Float(21) / 9)
        #expect(include.storage[4] == 5)
    }

    @Test func averagePoolStrideAndSameUpper() throws {
        let y = try averagePool2d(Self.grid, Pool2DParameters(kernel: [2, 2], strides: [2, 2]))
        #expect(y.storage == [3.25, 2.75, 2.5, 2.75])
        // 4 wide, kernel 3, stride 2, SAME_UPPER: output 2, one pad at the end, excluded from the mean.
        let same = try averagePool2d(Self.grid, Pool2DParameters(kernel: [3, 3], strides: [2, 2], autoPad: .sameUpper))
        #expect(same.shape == [1, 1, 2, 2])
        #expect(same.storage[3] == 2.75)  // (6 + 7 + 3 − 5) / 4
    }

    @Test func globalPools() throws {
        let x = KernelFixtures.array([2, 2, 1, 2], [1, 3, -1, 5, 2, 2, 0, -4])
        let avg = try globalPool(x)
        #expect(avg.shape == [2, 2, 1, 1])
        #expect(avg.storage == [2, 2, 2, -2])
        #expect(try globalPool(x, max: true).storage == [3, 5, 2, 0])
    }

    @Test func badPoolsThrow() {
        #expect(throws: KernelError.self) { try averagePool2d(Self.grid, Pool2DParameters(kernel: [5, 5])) }
        #expect(throws: KernelError.self) { try maxPool2d(Self.grid, Pool2DParameters(kernel: [2])) }
        #expect(throws: KernelError.self) { try maxPool2d(Self.grid, Pool2DParameters(kernel: [2, 2], pads: [-1, 0, 0, 0])) }
    }
}
