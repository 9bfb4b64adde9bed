import Testing
@testable import PruneKit

/// Aligning task models, pricing candidates, and the search's constraints.
@Suite struct MFISProblemTests {
    func solve(_ aligned: AlignedTasks, _ options: MFISOptions) throws -> (MFISProblem, MFISSolution) {
        let problem = MFISProblem(aligned: aligned, evidence: GroupEvidence.collect(aligned, options: options), options: options)
        return (problem, try MFISSearch.run(problem, tasks: aligned.tasks.map(\.name)))
    }

    /// Task t's removal map for surgery, from a keep mask per prunable group.
    func removal(_ aligned: AlignedTasks, _ keep: [[Bool]]) -> [Int: [Int]] {
        var r: [Int: [Int]] = [:]
        for (p, g) in aligned.prunableGroups.enumerated() { r[g.id] = keep[p].indices.filter { !keep[p][$0] } }
        return r
    }

    func counts(_ problem: MFISProblem, _ solution: MFISSolution) -> KeptCounts {
        var x: [Bool] = solution.keep.flatMap { $0.flatMap { $0 } }
        if problem.hasShareBits { x += solution.share.flatMap { $0 } }
        return x.withUnsafeBufferPointer { problem.tally($0) }.counts
    }

    @Test func perturbedCopiesAlignAndHeadsThatDifferArePinned() throws {
        let tasks = TaskFixtures.tasks(.vgg, count: 2)
        var other = tasks[1]
        // A 32-wide hidden layer in the second task's head: its group differs, so it is a head.
        other.initializers["classifier.0.weight"] = tasks[1].initializers["classifier.0.weight"]!.gathering(axis: 0, indices: Array(0..<32))
        other.initializers["classifier.0.bias"] = tasks[1].initializers["classifier.0.bias"]!.gathering(axis: 0, indices: Array(0..<32))
        other.initializers["classifier.2.weight"] = tasks[1].initializers["classifier.2.weight"]!.gathering(axis: 1, indices: Array(0..<32))
        let aligned = try AlignedTasks(names: ["a", "b"], graphs: [tasks[0], other])
        let hidden = try #require(aligned.groups.first { $0.name == "classifier.0" })
        #expect(!hidden.prunable && hidden.reason?.contains("task head") == true)
        #expect(aligned.prunableGroups.map(\.name) == ["features.0", "features.4", "features.8"])
        let same = try TaskFixtures.aligned(.vgg, count: 3)
        #expect(same.prunableGroups.map(\.name) == ["features.0", "features.4", "features.8", "classifier.0"])
    }

    @Test func modelsOfDifferentBackbonesAreRefusedNamingWhatDiffers() throws {
        let vgg = ExampleArchitecture.vgg.build()
        #expect { try AlignedTasks(names: ["a", "b"], graphs: [vgg, ExampleArchitecture.resnet.build()]) } throws: {
            "\($0)".contains("not of one backbone") && "\($0)".contains("node 'features.0' (Conv) differs from node 'conv1' (Conv)")
        }
        // One graph the other plus a node: the first node without a counterpart is named.
        var longer = vgg
        longer.nodes.append(Node(name: "extra", opType: "Relu", inputs: [vgg.outputs[0].name], outputs: ["extra.out"]))
        #expect { try AlignedTasks(names: ["a", "b"], graphs: [vgg, longer]) } throws: {
            "\($0)".contains("node 'extra' (Relu) of 'b' has no counterpart in 'a'")
        }
        var wide = vgg
        wide.initializers["features.4.weight"] = Tensor(shape: [32, 16, 5, 5], floats: Array(repeating: 0.1, count: 32 * 16 * 25))
        #expect { try AlignedTasks(names: ["a", "b"], graphs: [vgg, wide]) } throws: {
            "\($0)".contains("'features.4.weight'") && "\($0)".contains("[32, 16, 3, 3]")
        }
        var missing = vgg
        missing.removeInitializer("features.1.running_mean")
        missing.nodes = vgg.nodes
        #expect { try AlignedTasks(names: ["a", "b"], graphs: [vgg, missing]) } throws: {
            "\($0)".contains("'features.1.running_mean'")
        }
    }

    @Test(arguments: ExampleArchitecture.allCases)
    func costModelAgreesWithSurgeryAndModelStats(arch: ExampleArchitecture) throws {
        let aligned = try TaskFixtures.aligned(arch, count: 1)
        let cost = CostModel(aligned, sharing: false)
        var rng = Xoshiro256StarStar(seed: 3)
        let keep = aligned.prunableGroups.map { g in
            var k = (0..<g.size).map { _ in rng.chance(0.6) }
            k[rng.nextInt(below: g.size)] = true
            return k
        }
        let task = aligned.tasks[0]
        let pruned = try task.graph.removingChannels(removal(aligned, keep), groups: task.groups)
        let stats = ModelStats(graph: pruned, shapes: ShapeInference(graph: pruned))
        let kept = keep.map { $0.filter { $0 }.count }
        let counts = KeptCounts(kept: kept, union: kept, shared: kept.map { _ in 0 }, sharedKept: kept.map { _ in 0 })
        #expect(cost.params(counts, task: 0) == Double(stats.params))
        #expect(cost.macs(counts, task: 0) == stats.macs.map(Double.init))
        #expect(cost.originalParams[0] == Double(ModelStats(graph: task.graph, shapes: task.shapes).params))
        #expect(cost.originalStored[0] == Double(ModelStats(graph: task.graph, shapes: task.shapes).stored))
        // Storage counts what a file holds (BN running statistics too); parameters do not.
        #expect(cost.storage(counts) == Double(stats.stored))
        #expect(cost.stored(counts, task: 0) == Double(stats.stored))
        #expect((stats.stored > stats.params) == !task.graph.batchNormRunningStatistics.isEmpty)
    }

    @Test func objectiveCountIsThreeForOneTaskAndTwoTPlusOneForT() throws {
        for t in [1, 2, 3] {
            let aligned = try TaskFixtures.aligned(.concat, count: t)
            let problem = MFISProblem(aligned: aligned, evidence: GroupEvidence.collect(aligned, options: MFISOptions()), options: MFISOptions())
            #expect(problem.objectiveCount == (t == 1 ? 3 : 2 * t + 1))
            #expect(problem.hasShareBits == (t >= 2))
        }
    }

    @Test(arguments: [0.1, 0.3, 0.5])
    func preSpecifiedRateIsHonouredInEveryGroupOfEveryTask(rate: Double) throws {
        let aligned = try TaskFixtures.aligned(.resnet, count: 2)
        let (_, solution) = try solve(aligned, MFISOptions(target: .rate(rate), generations: 10, population: 24))
        for keep in solution.keep {
            for (p, g) in aligned.prunableGroups.enumerated() {
                #expect(keep[p].filter { $0 }.count == RateSelection.keepCount(size: g.size, rate: rate), "\(g.name)")
            }
        }
        #expect(solution.reason.contains("nearest the ideal"))
        #expect(solution.chosen != nil && solution.front.count >= 1)
    }

    @Test func roundToKeepsMultiples() throws {
        let aligned = try TaskFixtures.aligned(.vgg, count: 1)
        for target in [MFISOptions.Target.rate(0.3), .adaptive] {
            let (_, solution) = try solve(aligned, MFISOptions(target: target, generations: 5, roundTo: 8))
            for (p, g) in aligned.prunableGroups.enumerated() {
                let kept = solution.keep[0][p].filter { $0 }.count
                #expect(kept % 8 == 0 && kept >= 8 && kept <= g.size, "\(target) \(g.name) keeps \(kept)")
            }
        }
    }

    @Test func sameSeedSameSolutionAndAnotherSeedMayDiffer() throws {
        let aligned = try TaskFixtures.aligned(.concat, count: 2)
        let options = MFISOptions(target: .adaptive, seed: 42, generations: 15, population: 24)
        let (_, a) = try solve(aligned, options)
        let (_, b) = try solve(aligned, options)
        #expect(a.keep == b.keep && a.share == b.share && a.front == b.front)
        #expect(a.reason.contains("knee"))
    }

    @Test func budgetIsMetByEveryTask() throws {
        let aligned = try TaskFixtures.aligned(.resnet, count: 2)
        for measure in MFISOptions.BudgetMeasure.allCases {
            let (problem, solution) = try solve(aligned, MFISOptions(target: .budget(measure, 0.5), generations: 10, population: 24))
            let counts = counts(problem, solution)
            for t in 0..<2 {
                let ratio = measure == .params ? problem.cost.params(counts, task: t) / problem.cost.originalParams[t]
                    : problem.cost.macs(counts, task: t)! / problem.cost.originalMACs![t]
                #expect(ratio <= 0.5 && ratio > 0.3, "\(measure) task \(t): \(ratio)")
            }
        }
        #expect(throws: MFISSearch.Unreachable.self) { try solve(aligned, MFISOptions(target: .budget(.params, 0.001))) }
    }

    @Test func sharingOffStoresTheSumOfThePrunedTasks() throws {
        let aligned = try TaskFixtures.aligned(.resnet, count: 3)
        let (problem, solution) = try solve(aligned, MFISOptions(sharing: false, generations: 5))
        #expect(!problem.hasShareBits && solution.share.allSatisfy { !$0.contains(true) })
        let counts = counts(problem, solution)
        let sum = (0..<3).reduce(0.0) { $0 + problem.cost.stored(counts, task: $1) }
        #expect(problem.cost.storage(counts) == sum)
        #expect(solution.objectives.last == sum / problem.cost.originalStored.reduce(0, +))
    }

    @Test func sharingAlikeFiltersShrinksTheBundle() throws {
        // Nearly identical tasks: the chosen solution shares, and stores less than the tasks apart.
        let aligned = try TaskFixtures.aligned(.resnet, count: 3, noise: 0.01)
        let (problem, solution) = try solve(aligned, MFISOptions(generations: 20, population: 32))
        let counts = counts(problem, solution)
        let apart = (0..<3).reduce(0.0) { $0 + problem.cost.stored(counts, task: $1) }
        #expect(counts.shared.reduce(0, +) > 0)
        #expect(problem.cost.storage(counts) < apart)
    }

    @Test func archiveKeepsTheNonDominatedWhateverTheOrder() {
        let offers: [([Bool], [Double])] = [
            ([true, false], [1, 3]), ([false, true], [2, 2]), ([true, true], [3, 3]),  // the last is dominated
            ([false, false], [2, 2]), ([true, false, true], [3, 1]), ([true, true, true], [0.5, 9]),
        ]
        var snapshots: [[[Double]]] = []
        var patterns: [[[UInt64]]] = []
        for order in [Array(offers.indices), offers.indices.reversed(), [3, 0, 5, 1, 4, 2]] {
            let archive = MFISArchive()
            for i in order { archive.offer(offers[i].0, Evaluation(objectives: offers[i].1)) }
            archive.offer([true], Evaluation(objectives: [0, 0], constraintViolation: 1))  // infeasible: never kept
            snapshots.append(archive.snapshot().map(\.objectives))
            patterns.append(archive.snapshot().map(\.packed))
        }
        #expect(snapshots[0] == [[0.5, 9], [1, 3], [2, 2], [3, 1]])
        #expect(snapshots.allSatisfy { $0 == snapshots[0] } && patterns.allSatisfy { $0 == patterns[0] })
        // Of the two candidates scoring [2, 2], the smaller bit pattern (all false) stays.
        #expect(patterns[0][2] == [0])
        #expect(MFISArchive.unpack(MFISArchive.pack([true, false, true]), count: 3) == [true, false, true])
    }

    @Test func packingEightBitsAStepIsBitForBitThePlainLoop() {
        var rng = Xoshiro256StarStar(seed: 11)
        for count in [1, 7, 8, 9, 63, 64, 65, 203] {
            let bits = (0..<count).map { _ in rng.nextDouble() < 0.5 }
            var plain = [UInt64](repeating: 0, count: (count + 63) / 64)
            for (i, b) in bits.enumerated() where b { plain[i / 64] |= 1 << UInt64(i % 64) }
            #expect(MFISArchive.pack(bits) == plain, "\(count) bits")
            #expect(MFISArchive.unpack(plain, count: count) == bits)
        }
    }

    @Test func nearestToIdealTakesTheObjectivesInTheirOwnUnits() {
        // Merging costs 0.1 % of magnitude and saves 40 % of storage: take it. Scaled to the
        // front's range, the two would weigh the same and the middle point would win.
        let front = [[0.100, 0.49], [0.101, 0.28], [0.1005, 0.385]]
        #expect(MFISSearch.nearestToIdeal(front) == 1)
        #expect(FrontChoice.nearestToIdeal(front) == 2)
    }

    @Test func nearlyEqualTasksShareAlmostEverythingTheyKeep() throws {
        let aligned = try TaskFixtures.aligned(.vgg, count: 3, noise: 0.01)
        let (problem, solution) = try solve(aligned, MFISOptions(generations: 10, population: 24))
        let c = counts(problem, solution)
        let sharable = (0..<problem.groupCount).reduce(0) { sum, p in
            sum + (0..<problem.sizes[p]).filter { i in (0..<3).filter { solution.keep[$0][p][i] }.count >= 2 }.count
        }
        #expect(Double(c.shared.reduce(0, +)) >= 0.9 * Double(sharable), "\(c.shared) of \(sharable)")
    }

    @Test func tasksWhoseFiltersWentApartDoNotShare() throws {
        // Two independently initialized nets of one architecture: no filter is alike across them.
        let graphs = [ExampleArchitecture.resnet.build(seed: 1), ExampleArchitecture.resnet.build(seed: 2)]
        let aligned = try AlignedTasks(names: ["a", "b"], graphs: graphs)
        let (problem, solution) = try solve(aligned, MFISOptions(generations: 10, population: 24))
        #expect(counts(problem, solution).shared.allSatisfy { $0 == 0 })
    }

    @Test func progressEveryGenerationAndCancellation() throws {
        let aligned = try TaskFixtures.aligned(.vgg, count: 1)
        let options = MFISOptions(generations: 6)
        let problem = MFISProblem(aligned: aligned, evidence: GroupEvidence.collect(aligned, options: options), options: options)
        var seen: [Int] = []
        _ = try MFISSearch.run(problem, tasks: ["vgg"], progress: { seen.append($0.generation) })
        #expect(seen == Array(0...6))
        var asked = 0
        #expect(throws: CancellationError.self) {
            try MFISSearch.run(problem, tasks: ["vgg"], isCancelled: { asked += 1; return asked > 2 })
        }
    }
}
