/// Data-free bias compensation at surgery (our addition to ALGORITHM.md; see the README).
///
/// A removed channel whose producer has a bias does not output zero: with small weights it
/// outputs about its bias, a constant, which the per-channel ops after it (ReLU, BN affine, ...)
/// turn into another constant that the next layer sums in. Most ONNX exports fold BN into the
/// conv, so that bias is β − γμ/σ and often large. Removing the channel drops that constant;
/// here it is added to each consumer's bias instead (a conv: the constant times the sum of its
/// kernel window over that input channel — border positions under zero padding, which see
/// fewer taps, are ignored; a Gemm after a flatten: the constant times the sum of the channel's
/// h·w columns). Exact when the removed channel's weights are zero. The constant is carried only
/// through ops where it stays a constant exactly (ReLU, LeakyReLU, Clip, Identity, Dropout, BN,
/// pools, per-channel Add/Sub/Mul/Div, residual adds of removed channels, flatten, concat);
/// anything else drops it there, and the report says where.
public struct BiasCompensation: Sendable, Codable, Equatable {
    public struct Channel: Sendable, Codable, Equatable {
        public var group: String
        public var channel: Int
        /// Layers whose bias took this channel's constant.
        public var into: [String]
        /// Ops that the constant could not be carried through: its effect is lost there.
        public var skipped: [String]
    }

    /// Every removed channel whose constant was non-zero, ordered by group and channel.
    public var channels: [Channel] = []
    /// Bias tensors changed (or created, for a consumer without one).
    public var tensors: [String] = []

    public var compensatedLayers: [String] { Array(Set(channels.flatMap(\.into))).sorted() }
    public var skippedChannels: Int { channels.filter { !$0.skipped.isEmpty }.count }
}

extension Graph {
    /// The graph with the constants of the channels in `removal` folded into their consumers'
    /// biases, before `removingChannels(removal, groups:)`; the groups returned list any bias
    /// this created, so that surgery slices it. `except` (channel indices per group) are removed
    /// channels whose output is accounted for otherwise (inner-sharing folds) and are left alone.
    public func compensatingBiases(removing removal: [Int: [Int]], groups: ChannelGroups, shapes: ShapeInference,
                                   except: [Int: Set<Int>] = [:]) -> (graph: Graph, groups: ChannelGroups, report: BiasCompensation) {
        var pass = CompensationPass(graph: self, groups: groups, shapes: shapes, removal: removal, except: except)
        pass.run()
        var newGroups = groups
        newGroups.sites += pass.newSites
        return (pass.graph, newGroups, pass.report())
    }
}
