import Foundation

/// Cosine annealing over the whole run (Loshchilov & Hutter 2017, without restarts), stepped
/// per mini-batch: η_t = η_min + (η₀ − η_min)·(1 + cos(π·t/T))/2 for step t of T.
public struct CosineSchedule: Sendable, Equatable {
    public var initial: Float
    public var minimum: Float
    public var totalSteps: Int

    public init(initial: Float, minimum: Float = 0, totalSteps: Int) {
        self.initial = initial
        self.minimum = minimum
        self.totalSteps = max(1, totalSteps)
    }

    /// The rate of step `t` (0-based); past the end it stays at `minimum`.
    public func rate(atStep t: Int) -> Float {
        let progress = Double(min(max(t, 0), totalSteps)) / Double(totalSteps)
        return minimum + (initial - minimum) * Float((1 + cos(Double.pi * progress)) / 2)
    }
}
