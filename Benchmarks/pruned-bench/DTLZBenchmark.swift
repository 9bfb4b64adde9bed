import ArgumentParser
import Foundation
import PruneKit

/// NSGA-III on DTLZ with Deb & Jain's 2014 settings: IGD against the targeted points over
/// several seeds, and the time per run.
struct DTLZBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dtlz",
        abstract: "Run NSGA-III on a DTLZ problem over several seeds; report IGD best, median, worst and seconds per run."
    )

    @Option(help: "dtlz1, dtlz2, dtlz3, dtlz4 or dtlz7.")
    var problem: String = "dtlz2"

    @Option(help: "Number of objectives M.")
    var objectives: Int = 3

    @Option(help: "Generations after the initial population (default: Deb & Jain 2014's for the problem and M).")
    var generations: Int?

    @Option(help: "Seeds: a range (1-20), a list (1,5,9) or both (1-3,7).")
    var seeds: String = "1-20"

    @Option(help: "Distance variables k (default: 5 for DTLZ1, 10 for DTLZ2-4, 20 for DTLZ7).")
    var k: Int?

    @Option(help: "Population size (default: the smallest multiple of 4 not below the number of reference directions).")
    var population: Int?

    @Flag(help: "Evaluate each generation on all cores.")
    var parallel: Bool = false

    @Flag(help: "Keep children identical to a member of the population (as the paper; pymoo removes them).")
    var keepDuplicates: Bool = false

    @Flag(help: "Print one JSON object instead of text.")
    var json: Bool = false

    func validate() throws {
        guard DTLZ.Kind(rawValue: problem.lowercased()) != nil else {
            throw ValidationError("unknown problem '\(problem)'; expected one of \(DTLZ.Kind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard objectives >= 2 else { throw ValidationError("--objectives must be at least 2") }
        if let g = generations, g < 0 { throw ValidationError("--generations must not be negative") }
        if let k, k < 1 { throw ValidationError("--k must be positive") }
        if let p = population, p < 2 { throw ValidationError("--population must be at least 2") }
        _ = try parseSeeds(seeds)
        if generations == nil, Self.deb2014Generations(kind, objectives) == nil {
            throw ValidationError("Deb & Jain 2014 ran no \(problem) with \(objectives) objectives; give --generations")
        }
    }

    var kind: DTLZ.Kind { DTLZ.Kind(rawValue: problem.lowercased())! }

    func run() throws {
        let dtlz = DTLZ(kind, objectives: objectives, k: k)
        let directions = ReferenceDirections.deb2014(objectives: objectives)
        let gens = generations ?? Self.deb2014Generations(kind, objectives)!
        let configuration = NSGA3Configuration(referenceDirections: directions, populationSize: population,
                                               generations: gens, parallelEvaluation: parallel,
                                               eliminateDuplicates: !keepDuplicates)
        let reference = dtlz.targetedPoints(directions) ?? dtlz.paretoFront(partitions: 40)
        let seedList = try parseSeeds(seeds)

        var igds: [Double] = []
        var seconds: [Double] = []
        var cpuSeconds: [Double] = []
        let clock = ContinuousClock()
        for seed in seedList {
            var config = configuration
            config.seed = seed
            var result: OptimizationResult<[Double]>?
            let cpuStart = processCPUSeconds()
            let elapsed = clock.measure {
                result = NSGA3(problem: dtlz, configuration: config).run()
            }
            cpuSeconds.append(processCPUSeconds() - cpuStart)
            seconds.append(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
            igds.append(Indicators.igd(result!.front.map(\.objectives), reference: reference))
        }

        let sorted = igds.sorted()
        let report = Report(
            problem: kind.rawValue, objectives: objectives, variables: dtlz.variableCount,
            directions: directions.count, population: configuration.populationSize, generations: gens,
            seeds: seedList, igd: igds, igdBest: sorted.first!, igdMedian: median(sorted), igdWorst: sorted.last!,
            secondsPerRun: seconds.reduce(0, +) / Double(seconds.count),
            cpuSecondsPerRun: cpuSeconds.reduce(0, +) / Double(cpuSeconds.count)
        )
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print("\(report.problem)  M=\(objectives)  n=\(report.variables)  directions \(report.directions)  population \(report.population)  generations \(gens)  runs \(seedList.count)")
            print("IGD  best \(sci(report.igdBest))  median \(sci(report.igdMedian))  worst \(sci(report.igdWorst))")
            print("seconds per run \(String(format: "%.4f", report.secondsPerRun)) (CPU \(String(format: "%.4f", report.cpuSecondsPerRun)))")
        }
    }

    /// Deb & Jain 2014, Table III: generations per problem and number of objectives.
    static func deb2014Generations(_ kind: DTLZ.Kind, _ m: Int) -> Int? {
        let table: [DTLZ.Kind: [Int: Int]] = [
            .dtlz1: [3: 400, 5: 600, 8: 750, 10: 1000, 15: 1500],
            .dtlz2: [3: 250, 5: 350, 8: 500, 10: 750, 15: 1000],
            .dtlz3: [3: 1000, 5: 1000, 8: 1000, 10: 1500, 15: 2000],
            .dtlz4: [3: 600, 5: 1000, 8: 1250, 10: 2000, 15: 3000],
        ]
        return table[kind]?[m]
    }
}

struct Report: Encodable {
    var problem: String
    var objectives: Int
    var variables: Int
    var directions: Int
    var population: Int
    var generations: Int
    var seeds: [UInt64]
    var igd: [Double]
    var igdBest: Double
    var igdMedian: Double
    var igdWorst: Double
    var secondsPerRun: Double
    /// CPU time of the process per run: on a shared machine, steadier than wall time.
    var cpuSecondsPerRun: Double

    enum CodingKeys: String, CodingKey {
        case problem, objectives, variables, directions, population, generations, seeds, igd
        case igdBest = "igd_best", igdMedian = "igd_median", igdWorst = "igd_worst", secondsPerRun = "seconds_per_run"
        case cpuSecondsPerRun = "cpu_seconds_per_run"
    }
}

/// "1-20", "1,5,9", "1-3,7" → the seeds in the order given.
func parseSeeds(_ text: String) throws -> [UInt64] {
    var seeds: [UInt64] = []
    for part in text.split(separator: ",") {
        let bounds = part.split(separator: "-", omittingEmptySubsequences: false)
        if bounds.count == 1, let s = UInt64(bounds[0].trimmingCharacters(in: .whitespaces)) {
            seeds.append(s)
        } else if bounds.count == 2, let lo = UInt64(bounds[0].trimmingCharacters(in: .whitespaces)),
                  let hi = UInt64(bounds[1].trimmingCharacters(in: .whitespaces)), lo <= hi, hi - lo < 100_000 {
            seeds.append(contentsOf: lo...hi)
        } else {
            throw ValidationError("bad seed list '\(text)': use a range (1-20), a list (1,5,9) or both")
        }
    }
    guard !seeds.isEmpty else { throw ValidationError("--seeds is empty") }
    return seeds
}

/// Median of sorted values; the mean of the two middle ones for an even count.
func median(_ sorted: [Double]) -> Double {
    let n = sorted.count
    return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2
}

func sci(_ x: Double) -> String { String(format: "%.3e", x) }

/// CPU time used by this process so far.
func processCPUSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}
