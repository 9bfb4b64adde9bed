import Foundation
import Testing
@testable import PruneKit

@Suite struct TensorTests {
    @Test func halfRoundTripsExactValues() {
        // Values exactly representable in binary16, incl. subnormals and the largest finite.
        let values: [Float] = [0, -0, 1, -2, 0.5, 65504, -65504, 6.1035156e-05, 5.9604645e-08, 1.5, 0.333251953125]
        let t = Tensor(shape: [values.count], floats: values, dtype: .f16)
        #expect(t.data.count == values.count * 2)
        #expect(t.floats() == values)
    }

    @Test func halfKnownBitPatterns() {
        #expect(halfBitsFromFloat(1.0) == 0x3C00)
        #expect(halfBitsFromFloat(-2.0) == 0xC000)
        #expect(halfBitsFromFloat(65504) == 0x7BFF)
        #expect(halfBitsFromFloat(1e6) == 0x7C00)  // overflow to infinity
        #expect(halfBitsFromFloat(5.9604645e-08) == 0x0001)
        // 1 + 2^-11 is halfway between 1 and the next half; ties go to even (1.0).
        #expect(halfBitsFromFloat(1 + 1.0 / 2048) == 0x3C00)
        #expect(halfBitsFromFloat(1 + 3.0 / 2048) == 0x3C02)
        #expect(floatFromHalfBits(0x7E00).isNaN)
    }

    @Test func bfloat16KeepsTopBitsAndRoundsToEven() {
        #expect(bfloat16BitsFromFloat(1.0) == 0x3F80)
        #expect(floatFromBFloat16Bits(0x3F80) == 1.0)
        // 1 + 2^-8 is halfway between 1 and 1 + 2^-7: ties to even → 1.0.
        #expect(bfloat16BitsFromFloat(1 + 1.0 / 256) == 0x3F80)
        #expect(bfloat16BitsFromFloat(1 + 3.0 / 256) == 0x3F82)
    }

    @Test(arguments: DType.allCases)
    func everyDTypeRoundTripsSmallIntegers(dtype: DType) {
        let values: [Float] = dtype == .bool ? [0, 1, 1, 0] : [0, 1, 2, 3]
        let t = Tensor(shape: [2, 2], floats: values, dtype: dtype)
        #expect(t.data.count == 4 * dtype.size)
        #expect(t.floats() == values)
        let again = Tensor(shape: [2, 2], floats: t.floats(), dtype: dtype)
        #expect(again.data == t.data)
    }

    @Test func gatherKeepsBytesAlongEachAxis() {
        // 2 x 3 x 2, values 0..11.
        let t = Tensor(shape: [2, 3, 2], floats: (0..<12).map(Float.init))
        #expect(t.gathering(axis: 1, indices: [0, 2]).floats() == [0, 1, 4, 5, 6, 7, 10, 11])
        #expect(t.gathering(axis: 0, indices: [1]).floats() == [6, 7, 8, 9, 10, 11])
        #expect(t.gathering(axis: 2, indices: [1]).floats() == [1, 3, 5, 7, 9, 11])
        #expect(t.gathering(axis: 1, indices: [0, 1, 2]) == t)
    }

    @Test func rejectsWrongByteCountAndNegativeShape() {
        #expect(throws: Tensor.Failure.self) { try Tensor(dtype: .f32, shape: [3], data: Data(count: 8)) }
        #expect(throws: Tensor.Failure.self) { try Tensor(dtype: .f32, shape: [-1, 2], data: Data()) }
        #expect(throws: Tensor.Failure.self) { try Tensor(dtype: .f32, shape: [Int.max, 4], data: Data()) }
    }
}
