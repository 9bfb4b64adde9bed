/// The result of dependency analysis: which channels must be removed together.
///
/// Channel i of a group is one "filter" (ALGORITHM.md §1): removing it removes, at every
/// `ChannelSite` of the group, the positions that carry that channel — producer rows,
/// BN entries, consumer input slices (h·w columns after a flatten), residual partners.
public struct ChannelGroups: Sendable {
    public var groups: [ChannelGroup]
    /// Every tensor slice that follows a channel, with the channel (component) at each position.
    public var sites: [ChannelSite]
    /// Depthwise convs whose `group` attribute is their (new) input channel count.
    public var depthwiseConvs: [DepthwiseFix]
    /// Constant shapes whose entry 1 spells out a flatten Reshape's target (the flattened features).
    public var flattenReshapes: [ReshapeFix]
    /// Split sizes, Slice bounds, channel-shuffle reshape targets and Resize sizes that spell out counts of
    /// kept channels (surgery rewrites them).
    public var countFixes: [CountFix] = []
    /// Component of every channel position, per site, resolved; components are numbered
    /// densely and `groups[g].channels[i]` is the component of channel i of group g.
    public var componentCount: Int
    /// Gathers whose constant indices 0..<n, shaped as the value before a flattening Reshape,
    /// rebuild that value (PyTorch's `as_strided` before ConvNeXt's classifier norm).
    public var identityGathers: [IdentityGatherFix] = []

    public var prunable: [ChannelGroup] { groups.filter(\.prunable) }
}

public struct ChannelGroup: Sendable, Codable, Equatable {
    public var id: Int
    /// Readable name: the producing layers, joined by `+` when a residual add ties them.
    public var name: String
    /// Labels of the layers whose output channels this group is (conv, gemm, matmul).
    public var producers: [String]
    /// Component id of channel i, in the order of the first producer's channels.
    public var channels: [Int]
    public var prunable: Bool
    /// Why the group cannot be pruned (graph output, graph input, unknown op, ...).
    public var reason: String?

    public var size: Int { channels.count }

    /// The reasons every network has (its input's channels, its output's classes), as against
    /// an op or a shape that pins channels the user may have expected pruned.
    public static func isBoundary(reason: String) -> Bool {
        reason.hasPrefix(graphInputReason) || reason.hasPrefix(graphOutputReason)
    }

    static let graphInputReason = "comes from graph input"
    static let graphOutputReason = "reaches graph output"
}

public struct ChannelSite: Sendable, Equatable {
    public enum Role: String, Sendable, Codable {
        /// Output rows of a conv / gemm / matmul: what magnitude criteria score.
        case producer
        /// Input slice of a consumer (next conv's input channels, a linear's columns).
        case consumer
        /// Per-channel parameters of an elementwise op (BN scale/shift/stats, PRelu, a bias add).
        case perChannel
        /// The BN scale γ (also per-channel; kept apart because magnitude multiplies by |γ|).
        case bnScale
    }

    public var tensor: String
    public var axis: Int
    /// Component id of the channel carried at each position along `axis`.
    public var channels: [Int]
    public var role: Role
    /// The node this site belongs to.
    public var node: String
}

public struct IdentityGatherFix: Sendable, Equatable {
    public var node: Int
    /// Components along axis 1 of `shape`; surgery writes 0..<n shaped with the kept count there.
    public var channels: [Int]
    public var shape: [Int]
}

public struct DepthwiseFix: Sendable, Equatable {
    public var node: Int
    /// Components of the conv's input channels (the `group` attribute is how many remain).
    public var inputChannels: [Int]
}

public struct ReshapeFix: Sendable, Equatable {
    public var node: Int
    public var shapeTensor: String
    /// Components of the flattened features (after expansion over h·w).
    public var features: [Int]
}

/// Integers of a node (an attribute, or a constant input surgery replaces with its own copy)
/// whose entries are counts of kept channels: entry `index` becomes the number of `channels`
/// kept, divided by `divisor` (a shuffle's group count).
public struct CountFix: Sendable, Equatable {
    public enum Target: Sendable, Equatable {
        case attribute(String)
        case input(Int)
    }

    public struct Entry: Sendable, Equatable {
        public var index: Int
        public var channels: [Int]
        public var divisor: Int = 1
    }

    public var node: Int
    public var target: Target
    /// The values before pruning (entries not listed keep theirs).
    public var values: [Int64]
    public var entries: [Entry]
    /// The channels of each output of the node that must keep at least one (a Split's parts,
    /// a Slice's taken channels): a removal emptying one is refused, not written as a
    /// zero-channel tensor.
    public var outputs: [[Int]] = []
}
