import PruneKit

/// Task models the way the paper's setting has them, in miniature: one example backbone, and
/// copies whose weights are nudged (as fine-tuning for another task would), so that filter i
/// still corresponds across the tasks.
enum TaskFixtures {
    static func tasks(_ arch: ExampleArchitecture, count: Int, noise: Float = 0.05, seed: UInt64 = 1) -> [Graph] {
        let base = arch.build(seed: seed)
        return (0..<count).map { k in k == 0 ? base : perturbed(base, noise: noise, seed: seed &+ UInt64(k) &* 7919) }
    }

    /// Every floating-point weight w becomes w · (1 + noise · u), u uniform in [−1, 1].
    static func perturbed(_ g: Graph, noise: Float, seed: UInt64) -> Graph {
        var out = g
        var rng = Xoshiro256StarStar(seed: seed)
        for (name, t) in g.orderedInitializers where t.dtype == .f32 {
            let v = t.floats().map { $0 * (1 + noise * Float(2 * rng.nextDouble() - 1)) }
            out.initializers[name] = Tensor(shape: t.shape, floats: v)
        }
        return out
    }

    /// The graph with its last linear layer (`name`) giving `classes` outputs instead.
    static func withHead(_ g: Graph, name: String, classes: Int) -> Graph {
        var out = g
        let w = g.initializers["\(name).weight"]!
        out.initializers["\(name).weight"] = w.gathering(axis: 0, indices: Array(0..<classes))
        out.initializers["\(name).bias"] = g.initializers["\(name).bias"]!.gathering(axis: 0, indices: Array(0..<classes))
        for i in out.outputs.indices { out.outputs[i].shape = [.fixed(1), .fixed(classes)] }
        return out
    }

    static func names(_ count: Int) -> [String] { (0..<count).map { "task\($0)" } }

    static func aligned(_ arch: ExampleArchitecture, count: Int, noise: Float = 0.05) throws -> AlignedTasks {
        try AlignedTasks(names: names(count), graphs: tasks(arch, count: count, noise: noise))
    }
}
