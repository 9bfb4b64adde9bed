import Testing
@testable import PruneKit

/// The invariants of ALGORITHM.md §4 and §6 on example models with perturbed copies as tasks.
@Suite struct MultiTaskInvariantTests {
    static let options = MFISOptions(target: .rate(0.3), generations: 8, population: 24)

    func run(_ arch: ExampleArchitecture, tasks: Int, noise: Float = 0.01, options: MFISOptions = options) throws -> (AlignedTasks, MultiTaskPruner.Result) {
        let graphs = TaskFixtures.tasks(arch, count: tasks, noise: noise)
        let names = TaskFixtures.names(tasks)
        return (try AlignedTasks(names: names, graphs: graphs), try MultiTaskPruner(options: options).prune(graphs, tasks: names))
    }

    @Test(arguments: ExampleArchitecture.allCases)
    func matrixKeepAndBankAgree(arch: ExampleArchitecture) throws {
        let (_, r) = try run(arch, tasks: 3)
        #expect(r.bundle.index.groups.contains { $0.sharedSlots > 0 }, "nearly equal tasks share something")
        for index in r.bundle.index.groups {
            for t in 0..<3 {
                #expect(index.keep[t] == index.matrix[t].indices.filter { index.matrix[t][$0] == 1 })
                #expect(index.bank[t].count == index.keep[t].count)
                var own = index.sharedSlots
                for (j, channel) in index.keep[t].enumerated() {
                    if index.bank[t][j] < index.sharedSlots {
                        let f = index.shared[index.bank[t][j]]
                        #expect(f.channel == channel && f.tasks.contains(t) && f.slot == index.bank[t][j])
                    } else {
                        #expect(index.bank[t][j] == own, "a task's own filters take the slots after the shared ones, in order")
                        #expect(index.sharedFilter(channel: channel, task: t) == nil)
                        own += 1
                    }
                }
            }
            for f in index.shared {
                #expect(f.tasks == (0..<3).filter { index.matrix[$0][f.channel] == 1 } && f.tasks.count >= 2)
                #expect(abs(f.weights.reduce(0, +) - 1) < 1e-12)
            }
        }
    }

    @Test(arguments: ExampleArchitecture.allCases)
    func eachTaskIsItsRowsOfTheBank(arch: ExampleArchitecture) throws {
        let (_, r) = try run(arch, tasks: 3)
        for (t, graph) in r.graphs.enumerated() {
            let rebuilt = try r.bundle.rebuild(task: "task\(t)")
            #expect(rebuilt.map(\.name) == graph.initializerOrder)
            for (name, tensor) in rebuilt { #expect(tensor == graph.initializers[name], "\(arch) task\(t) \(name)") }
        }
        // What the optimizer priced is what the bundle stores.
        #expect(r.mfis.storage.afterSharing == r.bundle.storedParams)
        let priced = r.mfis.chosen.objectives.last! * Double(r.mfis.storage.original)
        #expect(abs(priced - Double(r.bundle.storedParams)) < 0.5)
        #expect(r.mfis.storage.afterSharing < r.mfis.storage.beforeSharing)
    }

    @Test func sharedFiltersAreExactlyTheDeclaredWeightedMeans() throws {
        var options = Self.options
        options.twinThreshold = 0.999  // no filter of a random init has a twin that close: the means are of the original filters
        let (aligned, r) = try run(.resnet, tasks: 3, options: options)
        #expect(r.mfis.folds.isEmpty)
        let layout = BankLayout(aligned, sharing: true)
        var checked = 0
        for e in layout.entries {
            guard let index = r.bundle.index.groups.first(where: { $0.group == e.group }), index.sharedSlots > 0,
                  let shared = r.bundle.tensors.first(where: { $0.name == "shared/\(e.tensor)" })?.tensor else { continue }
            let originals = aligned.tasks.map { $0.graph.initializers[e.tensor]!.floats() }
            let shape = aligned.tasks[0].graph.initializers[e.tensor]!.shape
            #expect(e.rowAxis == 0)
            let width = shape.dropFirst().reduce(1, *)
            // The bank's columns are those some task keeps; rebuild the full-width means and gather them.
            var rows: [Int] = []
            var values = originals[0]
            for f in index.shared {
                for q in e.rowPositions[f.channel] {
                    rows.append(q)
                    for k in 0..<width {
                        var mean = 0.0
                        for (s, w) in zip(f.tasks, f.weights) { mean += w * Double(originals[s][q * width + k]) }
                        values[q * width + k] = Float(mean)
                    }
                }
                checked += 1
            }
            var means = Tensor(shape: shape, floats: values).gathering(axis: 0, indices: rows)
            for c in e.columns {
                let union = c.owners.indices.filter { q in
                    let o = c.owners[q]
                    guard let m = r.bundle.index.groups.first(where: { $0.group == o.group }) else { return true }  // pinned
                    return m.matrix.contains { $0[o.channel] == 1 }
                }
                means = means.gathering(axis: c.axis, indices: union)
            }
            #expect(shared == means, "\(e.tensor)")
        }
        #expect(checked > 0)
    }

    @Test(arguments: [0.1, 0.3, 0.5])
    func preSpecifiedRatesAreHonouredInEveryPrunableGroup(rate: Double) throws {
        var options = Self.options
        options.target = .rate(rate)
        for arch in ExampleArchitecture.allCases {
            let (_, r) = try run(arch, tasks: 2, options: options)
            for model in r.models {
                for g in model.groups {
                    #expect(g.kept == (g.prunable ? RateSelection.keepCount(size: g.total, rate: rate) : g.total), "\(arch) \(g.name)")
                }
            }
        }
    }

    @Test func sameSeedSameResult() throws {
        let (_, a) = try run(.concat, tasks: 2)
        let (_, b) = try run(.concat, tasks: 2)
        #expect(a.graphs == b.graphs && a.bundle.tensors == b.bundle.tensors && a.bundle.index == b.bundle.index)
        #expect(a.mfis.front == b.mfis.front)
    }

    @Test(arguments: ExampleArchitecture.allCases)
    func oneTaskRunsTheSameCodeAndEveryTaskStillRuns(arch: ExampleArchitecture) throws {
        for tasks in [1, 2] {
            let (_, r) = try run(arch, tasks: tasks)
            #expect(r.mfis.objectives.count == (tasks == 1 ? 3 : 5))
            #expect(r.bundle.index.groups.allSatisfy { $0.matrix.count == tasks })
            for graph in r.graphs {
                let out = try Interpreter().run(graph, inputs: ["input": Tensor(shape: [1, 3, 32, 32], floats: Array(repeating: 0.5, count: 3 * 32 * 32))])
                #expect(out[graph.outputs[0].name]?.shape == [1, 10])
            }
        }
    }

    @Test func withSharingAndBiasCompensationOffNothingIsMerged() throws {
        var options = Self.options
        options.sharing = false
        options.biasCompensation = false
        let (aligned, r) = try run(.resnet, tasks: 3, options: options)
        #expect(r.bundle.index.groups.allSatisfy { $0.sharedSlots == 0 && $0.shared.isEmpty })
        #expect(!r.bundle.tensors.contains { $0.name.hasPrefix("shared/") })
        #expect(r.mfis.folds.isEmpty && r.mfis.storage.afterSharing == r.mfis.storage.beforeSharing)
        // Every task's pruned model is its original with channels removed, nothing else.
        for (t, graph) in r.graphs.enumerated() {
            var removal: [Int: [Int]] = [:]
            for g in r.models[t].groups where g.prunable { removal[aligned.groups.first { $0.name == g.name }!.id] = g.removed }
            #expect(graph == (try aligned.tasks[t].graph.removingChannels(removal, groups: aligned.tasks[t].groups)))
            #expect(r.models[t].biasCompensation == nil)
        }
    }

    @Test func biasCompensationOnIsSurgeryAfterCompensatingTheSameRemoval() throws {
        var options = Self.options
        options.sharing = false
        options.biasCompensation = true
        let (aligned, r) = try run(.resnet, tasks: 2, options: options)
        for (t, graph) in r.graphs.enumerated() {
            var removal: [Int: [Int]] = [:]
            for g in r.models[t].groups where g.prunable { removal[aligned.groups.first { $0.name == g.name }!.id] = g.removed }
            let task = aligned.tasks[t]
            let c = task.graph.compensatingBiases(removing: removal, groups: task.groups, shapes: task.shapes)
            #expect(!c.report.channels.isEmpty, "the example ResNet's BN shifts make removed channels constants")
            #expect(r.models[t].biasCompensation == c.report)
            #expect(graph == (try c.graph.removingChannels(removal, groups: c.groups)))
            #expect(graph != (try task.graph.removingChannels(removal, groups: task.groups)))
        }
    }

    @Test func aModelWithNothingPrunableComesBackWhole() throws {
        var b = GraphBuilder(name: "pinned", seed: 2)
        b.output(b.conv(b.input("input", shape: [1, 3, 8, 8]), out: 4, kernel: 3, name: "only"))
        let g = b.graph
        let r = try MultiTaskPruner(options: Self.options).prune([g, g], tasks: ["a", "b"])
        #expect(r.graphs == [g, g] && r.bundle.index.groups.isEmpty)
        #expect(r.mfis.chosen.reason.contains("nothing to choose"))
    }

    @Test func aDroppedPositiveTwinFoldsInExactly() throws {
        // x → c (three 1×1 filters, no bias; filter 1 = 2 × filter 0) → relu → d → output.
        var b = GraphBuilder(name: "twins", seed: 5)
        let x = b.input("input", shape: [1, 2, 4, 4])
        let h = b.relu(b.conv(x, out: 3, kernel: 1, pad: 0, bias: false, name: "c"))
        b.output(b.conv(h, out: 2, kernel: 1, pad: 0, name: "d"))
        var g = b.graph
        g.initializers["c.weight"] = Tensor(shape: [3, 2, 1, 1], floats: [0.5, -1, 1, -2, 0.3, 0.8])
        let options = MFISOptions(target: .rate(0.34), twinThreshold: 0.99, generations: 3, population: 8)
        let r = try MultiTaskPruner(options: options).prune([g], tasks: ["twins"])
        #expect(r.mfis.folds.count == 1)
        let fold = try #require(r.mfis.folds.first)
        #expect(Set([fold.dropped, fold.into]) == [0, 1] && abs(fold.scale - (fold.dropped == 1 ? 2 : 0.5)) < 1e-6)
        var rng = Xoshiro256StarStar(seed: 1)
        let input = Tensor(shape: [1, 2, 4, 4], floats: (0..<32).map { _ in Float(2 * rng.nextDouble() - 1) })
        let before = try Interpreter().run(g, inputs: ["input": input])[g.outputs[0].name]!.floats()
        let after = try Interpreter().run(r.graphs[0], inputs: ["input": input])[g.outputs[0].name]!.floats()
        #expect(zip(before, after).allSatisfy { abs($0 - $1) < 1e-5 })
    }
}
