/// Removes channels for real: every tensor a channel reaches is sliced, and the attributes
/// and constant shapes that spell out a channel count are rewritten, so the result is a
/// dense, smaller model that runs as it is.
public enum SurgeryError: Error, Equatable, CustomStringConvertible {
    case unknownGroup(Int)
    case notPrunable(group: String, reason: String)
    case channelOutOfRange(group: String, channel: Int, size: Int)
    case wouldRemoveAll(group: String)
    case emptyOutput(node: String, opType: String, output: Int)

    public var description: String {
        switch self {
        case let .unknownGroup(g): return "no channel group \(g)"
        case let .notPrunable(group, reason): return "channel group '\(group)' is not prunable: \(reason)"
        case let .channelOutOfRange(group, channel, size): return "channel \(channel) is out of range for group '\(group)' of \(size) channels"
        case let .wouldRemoveAll(group): return "removing every channel of group '\(group)' would leave nothing"
        case let .emptyOutput(node, opType, output):
            return "the channels removed would leave output \(output) of \(opType) '\(node)' empty; keep more channels"
        }
    }
}

extension Graph {
    /// The graph with `removal[g]` (channel indices of group g) removed.
    /// Removing nothing returns tensors byte-identical to the input's.
    public func removingChannels(_ removal: [Int: [Int]], groups: ChannelGroups) throws -> Graph {
        var removed = Set<Int>()
        for (g, channels) in removal where !channels.isEmpty {
            guard groups.groups.indices.contains(g) else { throw SurgeryError.unknownGroup(g) }
            let group = groups.groups[g]
            guard group.prunable else { throw SurgeryError.notPrunable(group: group.name, reason: group.reason ?? "") }
            for c in channels {
                guard c >= 0 && c < group.size else { throw SurgeryError.channelOutOfRange(group: group.name, channel: c, size: group.size) }
                removed.insert(group.channels[c])
            }
            if Set(channels).count >= group.size { throw SurgeryError.wouldRemoveAll(group: group.name) }
        }
        var out = self
        guard !removed.isEmpty else { return out }

        var done = Set<String>()
        for site in groups.sites {
            let key = "\(site.tensor)#\(site.axis)"
            guard done.insert(key).inserted, let t = out.initializers[site.tensor] else { continue }
            let keep = site.channels.indices.filter { !removed.contains(site.channels[$0]) }
            if keep.count != site.channels.count { out.initializers[site.tensor] = t.gathering(axis: site.axis, indices: keep) }
        }
        for fix in groups.depthwiseConvs {
            out.nodes[fix.node][attribute: "group"] = .int(fix.inputChannels.filter { !removed.contains($0) }.count)
        }
        for fix in groups.flattenReshapes {
            guard let t = out.initializers[fix.shapeTensor] else { continue }
            var target = t.int64s()
            target[1] = Int64(fix.features.filter { !removed.contains($0) }.count)
            let shape = Tensor(shape: t.shape, int64s: target)
            out.initializers[fix.shapeTensor] = t.dtype == .i64 ? shape : Tensor(shape: t.shape, floats: target.map(Float.init), dtype: t.dtype)
        }
        try out.applyCountFixes(groups.countFixes, removed: removed)
        out.applyIdentityGathers(groups.identityGathers, removed: removed)
        // Recorded intermediate shapes are stale now; ONNX treats them as optional.
        out.valueInfo = []
        return out
    }
}
