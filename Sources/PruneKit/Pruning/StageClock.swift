import Dispatch

/// Wall time per named stage.
public struct StageClock: Sendable {
    private var last = DispatchTime.now().uptimeNanoseconds
    public private(set) var seconds: [String: Double] = [:]
    public init() {}
    /// Starts the next lap now, without counting the time since the last one (it was timed elsewhere).
    public mutating func restart() { last = DispatchTime.now().uptimeNanoseconds }

    public mutating func lap(_ stage: String) {
        let now = DispatchTime.now().uptimeNanoseconds
        seconds[stage, default: 0] += Double(now - last) / 1e9
        last = now
    }
}
