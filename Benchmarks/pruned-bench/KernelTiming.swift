import Foundation

/// Times `body` until `minimumSeconds` have passed (at least `minimumRuns` runs) after one
/// warm-up run; returns the seconds of every timed run.
func timeRuns(minimumSeconds: Double, minimumRuns: Int = 3, _ body: () -> Void) -> [Double] {
    body()
    var times: [Double] = []
    let clock = ContinuousClock()
    var total = 0.0
    while times.count < minimumRuns || total < minimumSeconds {
        let d = clock.measure(body)
        let s = Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
        times.append(s)
        total += s
    }
    return times
}

/// One measured kernel case: floating-point operations per run and the runs' times.
struct KernelMeasurement: Encodable {
    var name: String
    /// The case's sizes, for other tools to run the same one (gemm: M, N, K; conv: N, C, H, W,
    /// M, kernel, stride, group).
    var shape: [Int]
    var flops: Double
    var runs: Int
    var secondsMedian: Double
    var secondsBest: Double
    var gflopsMedian: Double
    var gflopsBest: Double

    init(name: String, shape: [Int] = [], flops: Double, times: [Double]) {
        let sorted = times.sorted()
        self.name = name
        self.shape = shape
        self.flops = flops
        runs = times.count
        secondsMedian = median(sorted)
        secondsBest = sorted[0]
        gflopsMedian = flops / secondsMedian / 1e9
        gflopsBest = flops / secondsBest / 1e9
    }

    enum CodingKeys: String, CodingKey {
        case name, shape, flops, runs
        case secondsMedian = "seconds_median", secondsBest = "seconds_best"
        case gflopsMedian = "gflops_median", gflopsBest = "gflops_best"
    }

    var line: String {
        "\(name.padding(toLength: 34, withPad: " ", startingAt: 0)) \(String(format: "%8.1f", gflopsMedian)) GFLOP/s median  \(String(format: "%8.1f", gflopsBest)) best  (\(runs) runs, \(String(format: "%.3f", secondsMedian * 1e3)) ms)"
    }
}

/// Prints the measurements as a JSON array (`--json`) or as aligned lines.
func printMeasurements(_ results: [KernelMeasurement], json: Bool) throws {
    if json {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        print(String(decoding: try encoder.encode(results), as: UTF8.self))
    } else {
        for r in results { print(r.line) }
    }
}

/// Seeded values in [-1, 1) for benchmark operands.
func benchmarkValues(_ count: Int, seed: UInt64) -> [Float] {
    var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
    return (0..<count).map { _ in
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return Float(state >> 40) / Float(1 << 23) - 1
    }
}
