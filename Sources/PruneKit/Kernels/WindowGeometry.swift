/// ONNX `auto_pad`: explicit pads (NOTSET), no padding (VALID), or the pads that make
/// output = ⌈input / stride⌉ with the odd pixel at the end (SAME_UPPER) or start (SAME_LOWER).
public enum AutoPad: String, Sendable, CaseIterable {
    case notSet = "NOTSET"
    case sameUpper = "SAME_UPPER"
    case sameLower = "SAME_LOWER"
    case valid = "VALID"
}

/// Where a sliding window (conv kernel or pool) sits along one spatial axis.
struct WindowAxis: Equatable {
    let input: Int
    let kernel: Int
    let stride: Int
    let dilation: Int
    let padBegin: Int
    let padEnd: Int
    let output: Int

    /// Span of the dilated kernel.
    var extent: Int { (kernel - 1) * dilation + 1 }

    /// Resolves pads and output size. `ceilMode` (pooling) rounds the output up, but, as in
    /// PyTorch and onnxruntime, never lets the last window start in the end padding.
    init(input: Int, kernel: Int, stride: Int, dilation: Int, padBegin: Int, padEnd: Int,
         autoPad: AutoPad, ceilMode: Bool = false) throws {
        guard kernel >= 1, stride >= 1, dilation >= 1 else {
            throw KernelError.attribute("kernel \(kernel), stride \(stride), dilation \(dilation) must be ≥ 1")
        }
        guard padBegin >= 0, padEnd >= 0 else { throw KernelError.attribute("negative pads \(padBegin), \(padEnd)") }
        // Bounds that keep every size computation below far from overflow.
        let limit = 1 << 30
        guard kernel <= limit, stride <= limit, dilation <= limit, padBegin <= limit, padEnd <= limit else {
            throw KernelError.attribute("kernel \(kernel), stride \(stride), dilation \(dilation), pads \(padBegin), \(padEnd) beyond \(limit)")
        }
        guard input >= 0 else { throw KernelError.shape("negative spatial size \(input)") }
        let extent = (kernel - 1) * dilation + 1
        var (begin, end) = (padBegin, padEnd)
        var output: Int
        switch autoPad {
        case .valid:
            begin = 0
            end = 0
            output = input >= extent ? (input - extent) / stride + 1 : 0
        case .sameUpper, .sameLower:
            output = (input + stride - 1) / stride
            let total = max(0, (output - 1) * stride + extent - input)
            let small = total / 2
            (begin, end) = autoPad == .sameUpper ? (small, total - small) : (total - small, small)
        case .notSet:
            let padded = input + begin + end
            if padded < extent {
                output = 0
            } else if ceilMode {
                output = (padded - extent + stride - 1) / stride + 1
                if (output - 1) * stride >= input + begin { output -= 1 }
            } else {
                output = (padded - extent) / stride + 1
            }
        }
        guard output >= 1 else {
            throw KernelError.shape("window of extent \(extent) does not fit input size \(input) with pads \(begin)+\(end)")
        }
        self.input = input
        self.kernel = kernel
        self.stride = stride
        self.dilation = dilation
        self.padBegin = begin
        self.padEnd = end
        self.output = output
    }

    /// The input coordinate of kernel tap `tap` for output position `out` (may be in the padding).
    @inline(__always) func source(out: Int, tap: Int) -> Int { out * stride - padBegin + tap * dilation }

    /// The same window over a copy of the input that stores its padding (as zeros): no pads.
    var withPaddingStored: WindowAxis { WindowAxis(paddingStored: self) }

    private init(paddingStored a: WindowAxis) {
        input = a.input + a.padBegin + a.padEnd
        kernel = a.kernel
        stride = a.stride
        dilation = a.dilation
        padBegin = 0
        padEnd = 0
        output = a.output
    }
}

/// Checks the count of a per-axis attribute list.
func requireCount(_ values: [Int], _ count: Int, _ name: String) throws {
    guard values.count == count else {
        throw KernelError.attribute("\(name) has \(values.count) values \(values), expected \(count)")
    }
}
