/// The shared filters of a multi-task bundle seen as training parameters (ALGORITHM.md §5): a
/// shared bank element is ONE parameter, used by every task whose model holds a copy of it.
///
/// Each task network trains its own tensors, so a shared element lives there as one replica
/// per task using it. `sumGradients` gives every replica the sum of the tasks' gradients of
/// that element (the bank layout of `index.json` routes them); replicas that start equal and
/// take equal SGD steps (same gradient, same weight decay on the same value, same momentum
/// buffer) stay bit-identical, which is step for step SGD on the one bank parameter.
public struct SharedParameters: Sendable {
    /// One filter tensor with shared rows: per task using it, each element of the task's
    /// tensor (flat) and its element of the bank (flat), for the elements in shared rows only.
    struct Tie: Sendable {
        struct User: Sendable {
            var task: Int
            var elements: [Int]
            var bank: [Int]
        }
        var tensor: String
        var bankCount: Int
        /// In task order, so that the sums are taken in one fixed order (same seed, same bits).
        var users: [User]
    }

    let ties: [Tie]

    /// From the bundle laid out by `MultiTaskPruner` and the tasks' pruned graphs (the same
    /// structure as `bundle` describes, any values): the positions are rebuilt the way
    /// `MultiTaskBundle.rebuild` assembles a task, run on element indices instead of values.
    public init(bundle: MultiTaskBundle, graphs: [Graph]) throws {
        let names = bundle.index.tasks
        var stored: [String: Tensor] = [:]
        for e in bundle.tensors { stored[e.name] = e.tensor }
        var ties: [Tie] = []
        for (tensor, entry) in bundle.index.tensors.sorted(by: { $0.key < $1.key }) {
            guard let bank = stored[entry.shared] else { throw MultiTaskBundle.Failure(description: "missing bank tensor '\(entry.shared)'") }
            let bankRows = bank.shape[entry.rowAxis]
            let positions = Tensor(shape: bank.shape, int64s: (0..<Int64(bank.count)).map { $0 })
            var tie = Tie(tensor: tensor, bankCount: bank.count, users: [])
            for (t, task) in names.enumerated() {
                guard let taskRows = entry.rows[task], let columns = entry.columns[task],
                      let value = graphs[t].initializers[tensor] else { continue }
                // The task's own rows, marked −1: not bank elements.
                var ownShape = value.shape
                ownShape[entry.rowAxis] = taskRows.filter { $0 >= bankRows }.count
                let own = Tensor(shape: ownShape, int64s: .init(repeating: -1, count: ownShape.reduce(1, *)))
                let mapped = MultiTaskBundle.assemble(shared: positions, own: own.count > 0 ? own : nil, rows: taskRows,
                                                      columns: columns, rowAxis: entry.rowAxis).int64s()
                guard mapped.count == value.count else {
                    throw MultiTaskBundle.Failure(description: "'\(tensor)' of task '\(task)' does not fit the bank layout")
                }
                let elements = mapped.indices.filter { mapped[$0] >= 0 }
                tie.users.append(.init(task: t, elements: elements, bank: elements.map { Int(mapped[$0]) }))
            }
            ties.append(tie)
        }
        self.ties = ties
    }

    /// Replaces each task's gradient of a shared element by the sum over the tasks using it.
    public func sumGradients(_ gradients: inout [[String: NDArray<Float>]]) {
        for tie in ties {
            var sum = [Float](repeating: 0, count: tie.bankCount)
            for user in tie.users {
                guard let g = gradients[user.task][tie.tensor] else { continue }
                for (k, b) in zip(user.elements, user.bank) { sum[b] += g.storage[k] }
            }
            for user in tie.users {
                guard var g = gradients[user.task][tie.tensor] else { continue }
                for (k, b) in zip(user.elements, user.bank) { g.storage[k] = sum[b] }
                gradients[user.task][tie.tensor] = g
            }
        }
    }

    /// The bank elements, read back from the tasks' tensors (the last task using an element
    /// wins; after tied training they all agree). Elements no task uses keep `bank`'s values.
    func bankValues(_ tensor: String, bank: Tensor, graphs: [Graph]) -> Tensor {
        guard let tie = ties.first(where: { $0.tensor == tensor }) else { return bank }
        var values = bank.floats()
        for user in tie.users {
            guard let w = graphs[user.task].initializers[tensor]?.floats() else { continue }
            for (k, b) in zip(user.elements, user.bank) { values[b] = w[k] }
        }
        return Tensor(shape: bank.shape, floats: values, dtype: bank.dtype)
    }
}
