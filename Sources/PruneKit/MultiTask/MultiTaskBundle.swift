import Foundation

/// `index.json`: how the tensors of `multitask.safetensors` make up each task's model.
///
/// A tensor listed in `tensors` is a filter tensor with shared rows: for a task with an entry,
/// take `shared` at the task's `columns` (indices along each listed axis), append the task's
/// own rows (`<task>/<name>`, when present) along `rowAxis`, take `rows` along `rowAxis`, and
/// when the entry lists `gains` for the task, multiply row j by element j of that tensor (the
/// task's BN gain, after the data stages; biases stay per task). Every other tensor of a task is stored whole as `<task>/<name>`. `taskTensors` lists each
/// task's tensors in its model's order. `groups` are the index matrices of the prunable groups.
public struct BundleIndex: Sendable, Codable, Equatable {
    public struct AxisIndices: Sendable, Codable, Equatable {
        public var axis: Int
        public var indices: [Int]
    }

    public struct BankEntry: Sendable, Codable, Equatable {
        public var group: String
        public var rowAxis: Int
        public var shared: String
        public var rows: [String: [Int]]
        public var columns: [String: [AxisIndices]]
        /// Per task, the tensor of per-row gains to multiply in (absent: none).
        public var gains: [String: String]?
    }

    public var format = "pruned-multitask/2"
    public var tasks: [String]
    public var groups: [IndexMatrix]
    public var tensors: [String: BankEntry]
    public var taskTensors: [String: [String]]
}

/// `multitask.safetensors` + `index.json` (ALGORITHM.md §6): shared filter banks stored once,
/// everything else per task.
public struct MultiTaskBundle: Sendable {
    public var tensors: [SafeTensorsFile.Entry]
    public var index: BundleIndex
    /// Floating-point values stored: the bundle's parameter count.
    public var storedParams: Int { tensors.filter { $0.tensor.dtype.isFloatingPoint }.reduce(0) { $0 + $1.tensor.count } }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// From the tasks' pruned graphs and their merged (unpruned) graphs, whose shared rows are
    /// the weighted means.
    static func build(tasks names: [String], pruned: [Graph], merged: [Graph], layout: BankLayout,
                      indexes: [Int: IndexMatrix], prunable: Set<Int>) -> MultiTaskBundle {
        var stored: [SafeTensorsFile.Entry] = []
        var entries: [String: BundleIndex.BankEntry] = [:]
        var privateRows: [String: [Int: [Int]]] = [:]  // tensor → task → pruned row positions of its own filters
        for e in layout.entries {
            guard let index = indexes[e.group], index.sharedSlots > 0 else { continue }
            let keptBy = { (g: Int, i: Int, t: Int) -> Bool in !prunable.contains(g) || indexes[g]?.matrix[t][i] == 1 }
            // Shared rows: each slot's positions, from a task that uses it (all hold the same mean).
            var parts: [Tensor] = []
            var sharedRowStart: [Int] = []
            var rowsSoFar = 0
            for f in index.shared {
                sharedRowStart.append(rowsSoFar)
                let positions = e.rowPositions[f.channel]
                parts.append(merged[f.tasks[0]].initializers[e.tensor]!.gathering(axis: e.rowAxis, indices: positions))
                rowsSoFar += positions.count
            }
            var shared = Tensor.concatenating(parts, axis: e.rowAxis)
            var union: [[Int]] = []
            for c in e.columns {
                let keep = c.owners.indices.filter { q in names.indices.contains { keptBy(c.owners[q].group, c.owners[q].channel, $0) } }
                union.append(keep)
                shared = shared.gathering(axis: c.axis, indices: keep)
            }
            let sharedName = "shared/\(e.tensor)"
            stored.append(.init(sharedName, shared))
            var entry = BundleIndex.BankEntry(group: index.name, rowAxis: e.rowAxis, shared: sharedName, rows: [:], columns: [:])
            for t in names.indices where index.shared.contains(where: { $0.tasks.contains(t) }) {
                var rows: [Int] = []
                var own: [Int] = []
                var prunedRow = 0
                var ordinal = [Int](repeating: 0, count: index.channels)
                for owner in e.rowOwner {
                    guard index.matrix[t][owner] == 1 else { continue }
                    defer { ordinal[owner] += 1; prunedRow += 1 }
                    if let f = index.sharedFilter(channel: owner, task: t) {
                        rows.append(sharedRowStart[f.slot] + ordinal[owner])
                    } else {
                        rows.append(rowsSoFar + own.count)
                        own.append(prunedRow)
                    }
                }
                entry.rows[names[t]] = rows
                entry.columns[names[t]] = zip(e.columns, union).map { c, u in
                    var at: [Int: Int] = [:]
                    for (k, q) in u.enumerated() { at[q] = k }
                    return BundleIndex.AxisIndices(axis: c.axis, indices: c.owners.indices.filter { keptBy(c.owners[$0].group, c.owners[$0].channel, t) }.map { at[$0]! })
                }
                privateRows[e.tensor, default: [:]][t] = own
            }
            entries[e.tensor] = entry
        }
        let index = BundleIndex(tasks: names, groups: indexes.values.sorted { $0.group < $1.group }, tensors: entries, taskTensors: [:])
        return MultiTaskBundle(tensors: stored, index: index).withTaskTensors(pruned, privateRows: privateRows)
    }

    /// The bundle with each task's tensors (`<task>/<name>`, and its own rows of bank tensors,
    /// `privateRows[tensor][task]`) taken from `pruned`, appended after the banks.
    private func withTaskTensors(_ pruned: [Graph], privateRows: [String: [Int: [Int]]]) -> MultiTaskBundle {
        var out = self
        for (t, graph) in pruned.enumerated() {
            let task = index.tasks[t]
            out.index.taskTensors[task] = graph.initializerOrder
            for (name, tensor) in graph.orderedInitializers {
                if let own = privateRows[name]?[t] {
                    if !own.isEmpty { out.tensors.append(.init("\(task)/\(name)", tensor.gathering(axis: index.tensors[name]!.rowAxis, indices: own))) }
                } else {
                    out.tensors.append(.init("\(task)/\(name)", tensor))
                }
            }
        }
        return out
    }

    /// The same layout holding the values of `graphs` (the tasks after tied fine-tuning and
    /// recalibration, their weights before `gains`): banks read back through `shared`, every
    /// task tensor from its graph (including tensors recovery added, such as a conv's new
    /// bias). A bank tensor's gains are stored beside it (`gain/<task>/<tensor>`); any other
    /// tensor is stored with its gains multiplied in.
    public func refreshed(with graphs: [Graph], gains: [[String: [Float]]] = [], shared: SharedParameters) -> MultiTaskBundle {
        var graphs = graphs
        var gainTensors: [SafeTensorsFile.Entry] = []
        var entries = index.tensors
        for (t, task) in index.tasks.enumerated() where t < gains.count {
            for (name, g) in gains[t].sorted(by: { $0.key < $1.key }) {
                if let entry = entries[name], entry.rows[task] != nil {
                    let gainName = "gain/\(task)/\(name)"
                    gainTensors.append(.init(gainName, Tensor(shape: [g.count], floats: g)))
                    entries[name]!.gains = (entry.gains ?? [:]).merging([task: gainName]) { $1 }
                } else if let w = graphs[t].initializers[name] {
                    graphs[t].setInitializer(name, RowGains.apply(g, to: w))
                }
            }
        }
        var refreshed = MultiTaskBundle(tensors: tensors, index: index)
        refreshed.index.tensors = entries
        return refreshed.refreshedBanks(with: graphs, shared: shared, appending: gainTensors)
    }

    private func refreshedBanks(with graphs: [Graph], shared: SharedParameters, appending extra: [SafeTensorsFile.Entry]) -> MultiTaskBundle {
        var banks: [SafeTensorsFile.Entry] = []
        var privateRows: [String: [Int: [Int]]] = [:]
        for (tensor, entry) in index.tensors.sorted(by: { $0.key < $1.key }) {
            guard let bank = tensors.first(where: { $0.name == entry.shared })?.tensor else { continue }
            banks.append(.init(entry.shared, shared.bankValues(tensor, bank: bank, graphs: graphs)))
            let bankRows = bank.shape[entry.rowAxis]
            for (t, task) in index.tasks.enumerated() {
                guard let rows = entry.rows[task] else { continue }
                privateRows[tensor, default: [:]][t] = rows.indices.filter { rows[$0] >= bankRows }
            }
        }
        let order = Dictionary(uniqueKeysWithValues: tensors.enumerated().map { ($1.name, $0) })
        banks.sort { (order[$0.name] ?? 0) < (order[$1.name] ?? 0) }
        var index = index
        index.taskTensors = [:]
        return MultiTaskBundle(tensors: banks + extra, index: index).withTaskTensors(graphs, privateRows: privateRows)
    }

    /// Task `task`'s tensors, rebuilt from the bundle the way `index.json` says (the README's
    /// numpy recipe, in Swift).
    public func rebuild(task: String) throws -> [(name: String, tensor: Tensor)] {
        var byName: [String: Tensor] = [:]
        for e in tensors { byName[e.name] = e.tensor }
        guard let order = index.taskTensors[task] else { throw Failure(description: "no task '\(task)' in the bundle") }
        return try order.map { name in
            if let entry = index.tensors[name], let rows = entry.rows[task], let columns = entry.columns[task] {
                guard let shared = byName[entry.shared] else { throw Failure(description: "missing bank tensor '\(entry.shared)'") }
                let tensor = Self.assemble(shared: shared, own: byName["\(task)/\(name)"], rows: rows, columns: columns, rowAxis: entry.rowAxis)
                guard let gainName = entry.gains?[task] else { return (name, tensor) }
                guard let gains = byName[gainName], gains.count == tensor.shape[entry.rowAxis] else {
                    throw Failure(description: "gains '\(gainName)' missing or not one per row of '\(name)'")
                }
                return (name, RowGains.apply(gains.floats(), to: tensor, axis: entry.rowAxis))
            }
            guard let own = byName["\(task)/\(name)"] else { throw Failure(description: "missing tensor '\(task)/\(name)'") }
            return (name, own)
        }
    }

    /// One task's tensor from a bank: the bank at the task's columns, its own rows appended
    /// along `rowAxis`, then its rows in order.
    static func assemble(shared: Tensor, own: Tensor?, rows: [Int], columns: [BundleIndex.AxisIndices], rowAxis: Int) -> Tensor {
        var shared = shared
        for c in columns { shared = shared.gathering(axis: c.axis, indices: c.indices) }
        let stacked = own.map { Tensor.concatenating([shared, $0], axis: rowAxis) } ?? shared
        return stacked.gathering(axis: rowAxis, indices: rows)
    }

    public static let tensorsFileName = "multitask.safetensors"
    public static let indexFileName = "index.json"

    /// Writes `multitask.safetensors` and `index.json` into `directory`.
    public func write(to directory: URL) throws {
        try SafeTensorsFile(tensors: tensors, metadata: ["format": index.format]).serialized()
            .write(to: directory.appendingPathComponent(Self.tensorsFileName), options: .atomic)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        try encoder.encode(index).write(to: directory.appendingPathComponent(Self.indexFileName), options: .atomic)
    }
}
