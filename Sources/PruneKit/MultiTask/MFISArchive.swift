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

    private let members = Mutex(Members())

    func offer(_ x: [Bool], _ e: Evaluation) {
        guard e.isFeasible else { return }
        let packed = Self.pack(x)
        members.withLock { $0.offer(e.objectives, packed) }
    }

    /// The members in a fixed order (by objectives), whatever order they came in.
    func snapshot() -> [Member] {
        members.withLock { $0.list() }.sorted { $0.objectives.lexicographicallyPrecedes($1.objectives) }
    }

    /// The members' objective vectors in one flat buffer, their bits beside: with 2T + 1
    /// objectives the archive grows to thousands, nearly every candidate is non-dominated, and
    /// every offer scans it all.
    private struct Members {
        var m = 0
        var objectives: [Double] = []
        var packed: [[UInt64]] = []

        /// One pass: a member that dominates the candidate (or equals it with smaller bits)
        /// rejects it; members it dominates (or equals) are dropped as the pass goes. Both
        /// cannot happen in one pass: the members are mutually non-dominated, so a member
        /// dominated by the candidate rules out one dominating it.
        mutating func offer(_ o: [Double], _ bits: [UInt64]) {
            if packed.isEmpty { m = o.count }
            let count = packed.count, m = m
            var kept = 0
            let accepted = objectives.withUnsafeMutableBufferPointer { all in
                o.withUnsafeBufferPointer { c in
                    for k in 0..<count {
                        let (memberBetter, candidateBetter) = Self.compare(all.baseAddress! + k * m, c.baseAddress!, m)
                        if memberBetter && !candidateBetter { return false }
                        if !memberBetter && !candidateBetter, packed[k] == bits || packed[k].lexicographicallyPrecedes(bits) { return false }
                        if !memberBetter { continue }  // dominated by (or equal to) the candidate: dropped
                        if kept != k {
                            for i in 0..<m { all[kept * m + i] = all[k * m + i] }
                            packed[kept] = packed[k]
                        }
                        kept += 1
                    }
                    return true
                }
            }
            guard accepted else { return }
            objectives.removeLast((count - kept) * m)
            packed.removeLast(count - kept)
            objectives += o
            packed.append(bits)
        }

        func list() -> [Member] {
            packed.indices.map { Member(objectives: Array(objectives[($0 * m)..<(($0 + 1) * m)]), packed: packed[$0]) }
        }

        /// Whether a is better than b in some objective, and b than a; without branches on the
        /// comparisons (their outcomes are unpredictable): eight objectives per vector compare.
        @inline(__always)
        static func compare(_ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, _ m: Int) -> (aBetter: Bool, bBetter: Bool) {
            var lt = SIMDMask<SIMD8<Int64>>(repeating: false), gt = lt
            var i = 0
            while i + 8 <= m {
                let x = UnsafeRawPointer(a + i).loadUnaligned(as: SIMD8<Double>.self)
                let y = UnsafeRawPointer(b + i).loadUnaligned(as: SIMD8<Double>.self)
                lt .|= x .< y
                gt .|= x .> y
                i += 8
            }
            var aBetter: UInt8 = any(lt) ? 1 : 0, bBetter: UInt8 = any(gt) ? 1 : 0
            while i < m {
                aBetter |= unsafeBitCast(a[i] < b[i], to: UInt8.self)
                bBetter |= unsafeBitCast(a[i] > b[i], to: UInt8.self)
                i += 1
            }
            return (aBetter != 0, bBetter != 0)
        }
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
        x.withUnsafeBytes { bytes in
            // A Bool is one byte, 0 or 1: eight of them as one word, and one multiply gathers
            // byte i's low bit into bit 56 + i (the partial products below bit 56 cannot carry
            // into it; those above fall off the word).
            var i = 0
            while i + 8 <= x.count {
                let eight = bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                words[i >> 6] |= ((eight &* 0x0102_0408_1020_4080) >> 56) << UInt64(i & 63)
                i += 8
            }
            while i < x.count {
                if bytes[i] != 0 { words[i >> 6] |= 1 << UInt64(i & 63) }
                i += 1
            }
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
