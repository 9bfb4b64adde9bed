import ArgumentParser
import Dispatch
import Foundation

/// What an FMA-bound loop gets on this machine: the practical ceiling for SGEMM, and the
/// clock it implies.
struct PeakBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "peak",
        abstract: "Time an FMA-only loop (24 independent SIMD16<Float> chains) on 1 and on all cores.",
        discussion: """
            GFLOP/s = threads × iterations × 24 FMAs × 16 lanes × 2 / seconds. The implied clock \
            assumes 2 FMA units of 16 float lanes per core (AVX-512 Xeon): GHz = GFLOP/s per core / 64.
            """
    )

    @Option(help: "Iterations of the loop per thread per run.")
    var iterations: Int = 20_000_000

    @Option(help: "Timed runs per thread count.")
    var runs: Int = 5

    @Flag(help: "Print one JSON array instead of text.")
    var json = false

    func run() throws {
        var results: [KernelMeasurement] = []
        let cores = ProcessInfo.processInfo.activeProcessorCount
        for threads in Set([1, cores]).sorted() {
            var times: [Double] = []
            let clock = ContinuousClock()
            for _ in 0...runs {
                let d = clock.measure {
                    DispatchQueue.concurrentPerform(iterations: threads) { t in
                        fmaChains(iterations, seed: Float(t)) == 42 ? print("") : ()
                    }
                }
                times.append(Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18)
            }
            times.removeFirst()  // warm-up
            let flops = Double(threads) * Double(iterations) * 24 * 16 * 2
            results.append(KernelMeasurement(name: "fma loop, \(threads) thread\(threads == 1 ? "" : "s")", shape: [threads],
                                             flops: flops, times: times))
        }
        try printMeasurements(results, json: json)
        if !json {
            for (r, threads) in zip(results, Set([1, cores]).sorted()) {
                print("\(r.name): best implies \(String(format: "%.2f", r.gflopsBest / Double(threads) / 64)) GHz per core at 2 FMA units × 16 lanes")
            }
        }
    }
}

/// 24 independent multiply-add chains on 512-bit vectors; the result keeps them live.
@inline(never)
func fmaChains(_ iterations: Int, seed: Float) -> Float {
    typealias V = SIMD16<Float>
    let m = V(repeating: 0.999_9), add = V(repeating: 1e-3)
    var v = (0..<24).map { V(repeating: seed + Float($0)) }
    var a0 = v[0], a1 = v[1], a2 = v[2], a3 = v[3], a4 = v[4], a5 = v[5], a6 = v[6], a7 = v[7]
    var a8 = v[8], a9 = v[9], a10 = v[10], a11 = v[11], a12 = v[12], a13 = v[13], a14 = v[14], a15 = v[15]
    var a16 = v[16], a17 = v[17], a18 = v[18], a19 = v[19], a20 = v[20], a21 = v[21], a22 = v[22], a23 = v[23]
    for _ in 0..<iterations {
        a0 = add.addingProduct(a0, m); a1 = add.addingProduct(a1, m); a2 = add.addingProduct(a2, m); a3 = add.addingProduct(a3, m)
        a4 = add.addingProduct(a4, m); a5 = add.addingProduct(a5, m); a6 = add.addingProduct(a6, m); a7 = add.addingProduct(a7, m)
        a8 = add.addingProduct(a8, m); a9 = add.addingProduct(a9, m); a10 = add.addingProduct(a10, m); a11 = add.addingProduct(a11, m)
        a12 = add.addingProduct(a12, m); a13 = add.addingProduct(a13, m); a14 = add.addingProduct(a14, m); a15 = add.addingProduct(a15, m)
        a16 = add.addingProduct(a16, m); a17 = add.addingProduct(a17, m); a18 = add.addingProduct(a18, m); a19 = add.addingProduct(a19, m)
        a20 = add.addingProduct(a20, m); a21 = add.addingProduct(a21, m); a22 = add.addingProduct(a22, m); a23 = add.addingProduct(a23, m)
    }
    v = [a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15, a16, a17, a18, a19, a20, a21, a22, a23]
    return v.reduce(V(), +).sum()
}
