import Synchronization

/// Every non-dominated feasible candidate the search has evaluated, seeds included.
///
/// With 2T + 1 objectives nearly every member of a population is non-dominated, so NSGA-III's
/// survival is almost all niching, and a good seed can drift out of the population while its
/// replacement is no better. The solution is picked from this archive, not from the last
/// population. Its content does not depend on the order of evaluation (it is the
/// non-dominated subset of everything evaluated; between equal objective vectors the smaller
/// bit pattern stays), so parallel evaluation keeps runs reproducible.
final class MFISArchive: Sendable {
    struct Member: Sendable {
        var objectives: [Double]
        /// The candidate's bits, 64 to a word.
        var packed: [UInt64]
    }

    private let members = Mutex<[Member]>([])

    func offer(_ x: [Bool], _ e: Evaluation) {
        guard e.isFeasible else { return }
        // Most candidates are dominated: look before packing the bits.
        if members.withLock({ list in list.contains { Self.dominates($0.objectives, e.objectives) } }) { return }
        let candidate = Member(objectives: e.objectives, packed: Self.pack(x))
        members.withLock { list in
            for m in list {
                if m.objectives == candidate.objectives {
                    // Of two candidates scoring the same, the smaller bit pattern stays.
                    if m.packed == candidate.packed || m.packed.lexicographicallyPrecedes(candidate.packed) { return }
                    continue
                }
                if Self.dominates(m.objectives, candidate.objectives) { return }
            }
            list.removeAll { Self.dominates(candidate.objectives, $0.objectives) || $0.objectives == candidate.objectives }
            list.append(candidate)
        }
    }

    /// The members in a fixed order (by objectives), whatever order they came in.
    func snapshot() -> [Member] {
        members.withLock { $0 }.sorted { $0.objectives.lexicographicallyPrecedes($1.objectives) }
    }

    static func dominates(_ a: [Double], _ b: [Double]) -> Bool {
        var better = false
        for (x, y) in zip(a, b) {
            if x > y { return false }
            if x < y { better = true }
        }
        return better
    }

    static func pack(_ x: [Bool]) -> [UInt64] {
        var words = [UInt64](repeating: 0, count: (x.count + 63) / 64)
        x.withUnsafeBufferPointer { bits in
            // A Bool is one byte, 0 or 1.
            let bytes = UnsafeRawPointer(bits.baseAddress!).assumingMemoryBound(to: UInt8.self)
            for i in 0..<x.count where bytes[i] != 0 { words[i >> 6] |= 1 << UInt64(i & 63) }
        }
        return words
    }

    static func unpack(_ words: [UInt64], count: Int) -> [Bool] {
        (0..<count).map { words[$0 >> 6] & (1 << UInt64($0 & 63)) != 0 }
    }
}

/// The MFIS problem with every evaluation offered to an archive.
struct ArchivedMFISProblem: BlockBinaryProblem {
    let inner: MFISProblem
    let archive: MFISArchive

    var layout: BlockLayout { inner.layout }
    var objectiveCount: Int { inner.objectiveCount }

    func evaluate(_ x: [Bool]) -> Evaluation {
        let e = inner.evaluate(x)
        archive.offer(x, e)
        return e
    }

    func repair(_ x: inout [Bool], using rng: inout Xoshiro256StarStar) {
        inner.repair(&x, using: &rng)
    }
}
