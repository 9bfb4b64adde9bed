/// Unfolds the receptive fields of `channels` planes (each `h.input`×`w.input`, contiguous,
/// starting at `image`) into a (channels·kh·kw) × (oh·ow) matrix at `columns`, zero where a tap
/// falls in the padding, so that convolution becomes one matrix product. (The forward conv
/// never stores this matrix: the GEMM packs its panels from the image, Im2ColMatrix.swift,
/// which is also what writes it here.)
func im2col(image: UnsafePointer<Float>, channels: Int, h: WindowAxis, w: WindowAxis,
            columns: UnsafeMutablePointer<Float>) {
    let pixels = h.output * w.output
    Im2ColMatrix(images: image, imageStride: channels * h.input * w.input, channels: channels, h: h, w: w)
        .copy(columns: 0..<pixels, depth: 0, count: channels * h.kernel * w.kernel, into: columns, rowStride: pixels)
}
