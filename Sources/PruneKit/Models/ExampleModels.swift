/// The example networks of `pruned example-model`: one of each kind of channel coupling the
/// analysis must get right. Small (tens of thousands of parameters) so tests run them fast.
public enum ExampleArchitecture: String, CaseIterable, Sendable {
    case vgg, resnet, concat, depthwise

    public func build(seed: UInt64 = 0, inputSize: Int = 32, batch: Int = 1) -> Graph {
        var b = GraphBuilder(name: rawValue, seed: seed)
        let x = b.input("input", shape: [batch, 3, inputSize, inputSize])
        let logits: String
        switch self {
        case .vgg: logits = Self.vgg(&b, x)
        case .resnet: logits = Self.resnet(&b, x)
        case .concat: logits = Self.concatNet(&b, x)
        case .depthwise: logits = Self.depthwiseSeparable(&b, x)
        }
        b.output(logits)
        return b.graph
    }

    /// Conv-BN-ReLU stages with max pooling, then flatten → linear → linear (channel c owns h·w columns).
    private static func vgg(_ b: inout GraphBuilder, _ x: String) -> String {
        var h = x
        for (i, width) in [16, 32, 64].enumerated() {
            h = b.conv(h, out: width, kernel: 3, bias: false, name: "features.\(4 * i)")
            h = b.batchNorm(h, name: "features.\(4 * i + 1)")
            h = b.relu(h)
            h = b.maxPool(h, kernel: 2, stride: 2)
        }
        h = b.flatten(h)
        h = b.relu(b.linear(h, out: 64, name: "classifier.0"))
        return b.linear(h, out: 10, name: "classifier.2")
    }

    /// A stem, a block with an identity shortcut, a block with a strided 1×1 projection shortcut.
    private static func resnet(_ b: inout GraphBuilder, _ x: String) -> String {
        var h = b.relu(b.batchNorm(b.conv(x, out: 16, kernel: 3, bias: false, name: "conv1"), name: "bn1"))
        func block(_ b: inout GraphBuilder, _ x: String, out: Int, stride: Int, name: String) -> String {
            var y = b.relu(b.batchNorm(b.conv(x, out: out, kernel: 3, stride: stride, bias: false, name: "\(name).conv1"), name: "\(name).bn1"))
            y = b.batchNorm(b.conv(y, out: out, kernel: 3, bias: false, name: "\(name).conv2"), name: "\(name).bn2")
            var shortcut = x
            if stride != 1 || b.shape(x)[1] != out {
                shortcut = b.conv(x, out: out, kernel: 1, stride: stride, pad: 0, bias: false, name: "\(name).downsample.0")
                shortcut = b.batchNorm(shortcut, name: "\(name).downsample.1")
            }
            return b.relu(b.add(y, shortcut))
        }
        h = block(&b, h, out: 16, stride: 1, name: "layer1.0")
        h = block(&b, h, out: 32, stride: 2, name: "layer2.0")
        h = b.flatten(b.globalAveragePool(h))
        return b.linear(h, out: 10, name: "fc")
    }

    /// Two branches of different widths concatenated, then a conv that reads both.
    private static func concatNet(_ b: inout GraphBuilder, _ x: String) -> String {
        let stem = b.relu(b.conv(x, out: 16, kernel: 3, name: "stem"))
        let left = b.relu(b.conv(stem, out: 8, kernel: 1, pad: 0, name: "branch1"))
        let right = b.relu(b.conv(stem, out: 12, kernel: 3, name: "branch2"))
        var h = b.concat([left, right])
        h = b.relu(b.conv(h, out: 24, kernel: 3, stride: 2, name: "mix"))
        h = b.flatten(b.globalAveragePool(h))
        return b.linear(h, out: 10, name: "fc")
    }

    /// MobileNet-style depthwise 3×3 + pointwise 1×1 blocks.
    private static func depthwiseSeparable(_ b: inout GraphBuilder, _ x: String) -> String {
        var h = b.relu(b.batchNorm(b.conv(x, out: 16, kernel: 3, bias: false, name: "stem.0"), name: "stem.1"))
        for (i, (width, stride)) in [(32, 1), (64, 2)].enumerated() {
            let c = b.shape(h)[1]
            h = b.relu(b.batchNorm(b.conv(h, out: c, kernel: 3, stride: stride, group: c, bias: false, name: "blocks.\(i).dw"), name: "blocks.\(i).dw_bn"))
            h = b.relu(b.batchNorm(b.conv(h, out: width, kernel: 1, pad: 0, bias: false, name: "blocks.\(i).pw"), name: "blocks.\(i).pw_bn"))
        }
        h = b.flatten(b.globalAveragePool(h))
        return b.linear(h, out: 10, name: "classifier")
    }
}
