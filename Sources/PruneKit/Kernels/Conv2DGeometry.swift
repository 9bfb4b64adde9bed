/// The checked sizes of one convolution: what the backward pass needs to walk the same
/// groups, columns and windows as `conv2d`. (`conv2d` validates the same conditions inline;
/// it can adopt this once the forward's speed work has settled.)
struct Conv2DGeometry {
    let batch: Int
    let channels: Int
    let filters: Int
    let group: Int
    let groupChannels: Int
    let groupFilters: Int
    let h: WindowAxis
    let w: WindowAxis

    /// Rows of a group's column matrix: one per (channel, kernel tap).
    var depth: Int { groupChannels * h.kernel * w.kernel }
    var inPlane: Int { h.input * w.input }
    var outPlane: Int { h.output * w.output }
    var outputShape: [Int] { [batch, filters, h.output, w.output] }
    /// A 1×1 kernel with unit stride and no padding reads the image itself as the column matrix.
    var direct: Bool {
        h.kernel == 1 && w.kernel == 1 && h.stride == 1 && w.stride == 1
            && h.padBegin == 0 && w.padBegin == 0 && h.output == h.input && w.output == w.input
    }

    init(input: [Int], weight: [Int], _ p: Conv2DParameters) throws {
        guard input.count == 4 else { throw KernelError.shape("Conv input \(input) is not N×C×H×W") }
        guard weight.count == 4 else { throw KernelError.shape("Conv weight \(weight) is not M×C×kH×kW") }
        try requireCount(p.strides, 2, "strides")
        try requireCount(p.pads, 4, "pads")
        try requireCount(p.dilations, 2, "dilations")
        (batch, channels) = (input[0], input[1])
        (filters, groupChannels) = (weight[0], weight[1])
        group = p.group
        guard group >= 1, channels % group == 0, filters % group == 0 else {
            throw KernelError.shape("group \(group) does not divide input channels \(channels) and filters \(filters)")
        }
        guard groupChannels == channels / group else {
            throw KernelError.shape("weight \(weight) expects \(groupChannels) channels per group; input \(input) with group \(group) has \(channels / group)")
        }
        groupFilters = filters / group
        h = try WindowAxis(input: input[2], kernel: weight[2], stride: p.strides[0], dilation: p.dilations[0],
                           padBegin: p.pads[0], padEnd: p.pads[2], autoPad: p.autoPad)
        w = try WindowAxis(input: input[3], kernel: weight[3], stride: p.strides[1], dilation: p.dilations[1],
                           padBegin: p.pads[1], padEnd: p.pads[3], autoPad: p.autoPad)
        _ = try resultCount(outputShape)
    }
}
