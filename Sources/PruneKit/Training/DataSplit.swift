/// A seeded split of a data file's samples: the part that recalibrates and trains, and the
/// held-out part every accuracy in the report is measured on.
public struct DataSplit: Sendable, Equatable {
    public static let defaultHeldOutFraction = 0.1

    /// Ascending sample indices.
    public var training: [Int]
    /// Ascending sample indices; empty when the fraction is 0.
    public var heldOut: [Int]

    /// Holds out `max(1, round(fraction·count))` samples (none when `fraction` is 0), chosen by
    /// a permutation from `seed`: the same seed and count give the same split on every machine.
    public init(count: Int, heldOutFraction fraction: Double = defaultHeldOutFraction, seed: UInt64) throws(TrainingDataError) {
        precondition(fraction >= 0 && fraction < 1, "held-out fraction must be in [0, 1)")
        let held = fraction == 0 ? 0 : max(1, Int((Double(count) * fraction).rounded()))
        guard count - held >= 1 else { throw .tooFewSamples(count: count, needed: held + 1) }
        var order = Array(0..<count)
        var rng = Xoshiro256StarStar(seed: seed)
        rng.shuffle(&order)
        heldOut = order.prefix(held).sorted()
        training = order.dropFirst(held).sorted()
    }
}

/// The mini-batches of an epoch.
public enum BatchOrder {
    /// `indices` shuffled by a generator seeded from `seed` and `epoch` (so every epoch has its
    /// own order, and a run can be repeated), cut into batches of `size`; the last may be smaller.
    public static func shuffled(_ indices: [Int], size: Int, seed: UInt64, epoch: Int) -> [[Int]] {
        var order = indices
        var rng = Xoshiro256StarStar(seed: seed ^ (UInt64(epoch + 1) &* 0x9e37_79b9_7f4a_7c15))
        rng.shuffle(&order)
        return inOrder(order, size: size)
    }

    /// `indices` as they are, cut into batches of `size`; the last may be smaller.
    public static func inOrder(_ indices: [Int], size: Int) -> [[Int]] {
        precondition(size > 0, "batch size must be positive")
        return stride(from: 0, to: indices.count, by: size).map { Array(indices[$0..<min($0 + size, indices.count)]) }
    }

    /// `batches` for a pass in training mode: a last batch of one sample joins the one before.
    /// BN in training mode normalizes each channel by the batch's own statistics; behind a
    /// 1×1 output (a head after global pooling, a squeeze-and-excite conv) one sample has none
    /// (PyTorch refuses it), its variance is 0, and it would drag the running variance down.
    public static func forTraining(_ batches: [[Int]]) -> [[Int]] {
        guard batches.count >= 2, batches.last?.count == 1 else { return batches }
        var out = batches
        let last = out.removeLast()
        out[out.count - 1] += last
        return out
    }
}
