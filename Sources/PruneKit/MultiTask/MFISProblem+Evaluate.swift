import Foundation

/// Pricing and repairing a candidate: one pass over the keep bits per task and group (losses
/// and counts), one pass per group over the tasks' bits (union, sharing, merge distortion),
/// then the cost model on the counts.
extension MFISProblem {
    /// The per-task losses before averaging over groups, and the counts.
    struct Tally {
        var lostMagnitude: [Double]
        var lostIrreplaceability: [Double]
        /// What merging shared filters costs each task, in normalized magnitude.
        var mergeCost: [Double]
        var counts: KeptCounts
    }

    func tally(_ bits: UnsafeBufferPointer<Bool>) -> Tally {
        let T = taskCount, P = groupCount
        var lostA = [Double](repeating: 0, count: T), lostB = lostA
        var kept = [Int](repeating: 0, count: T * P)
        guard let start = bits.baseAddress else {
            let none = [Int](repeating: 0, count: P)
            return Tally(lostMagnitude: lostA, lostIrreplaceability: lostB, mergeCost: lostA,
                         counts: KeptCounts(kept: kept, union: none, shared: none, sharedKept: kept))
        }
        // A Bool is one byte holding 0 or 1: read as a number, a dropped bit weighs its score in
        // without a branch.
        let flags = UnsafeRawPointer(start).assumingMemoryBound(to: UInt8.self)
        scoreA.withUnsafeBufferPointer { a in
            scoreB.withUnsafeBufferPointer { b in
                for t in 0..<T {
                    for p in 0..<P {
                        let base = keepOffset[t * P + p], end = base + sizes[p]
                        var k = 0
                        var la = 0.0, lb = 0.0
                        if foldFree[t * P + p] {
                            for bit in base..<end {
                                let dropped = Double(1 &- flags[bit])
                                k &+= Int(flags[bit])
                                la += dropped * a[bit]
                                lb += dropped * b[bit]
                            }
                        } else {
                            for bit in base..<end {
                                if bits[bit] {
                                    k += 1
                                    continue
                                }
                                // A dropped channel with a kept near-twin loses what the twin cannot stand in for.
                                var factor = 1.0
                                var s = Int(foldStart[bit])
                                let stop = Int(foldStart[bit + 1])
                                while s < stop {
                                    if bits[Int(foldTwin[s])] { factor = foldSine[s]; break }
                                    s += 1
                                }
                                la += a[bit] * factor
                                lb += b[bit]
                            }
                        }
                        kept[t * P + p] = k
                        lostA[t] += groupLoss(la)
                        lostB[t] += groupLoss(lb)
                    }
                }
            }
        }
        guard T >= 2 else {
            return Tally(lostMagnitude: lostA, lostIrreplaceability: lostB, mergeCost: Array(repeating: 0, count: T),
                         counts: KeptCounts(kept: kept, union: kept, shared: Array(repeating: 0, count: P), sharedKept: Array(repeating: 0, count: P)))
        }
        var union = [Int](repeating: 0, count: P), shared = union
        var sharedKept = [Int](repeating: 0, count: T * P)
        var merge = [Double](repeating: 0, count: T)
        var tasks: [Int] = []
        tasks.reserveCapacity(T)
        for p in 0..<P {
            for i in 0..<sizes[p] {
                var mask = 0
                for t in 0..<T where bits[keepOffset[t * P + p] + i] { mask |= 1 << t }
                guard mask != 0 else { continue }
                union[p] += 1
                guard hasShareBits, mask.nonzeroBitCount >= 2, bits[shareOffset[p] + i] else { continue }
                shared[p] += 1
                let q = channelOffset[p] + i
                if distortion.isEmpty {
                    tasks.removeAll(keepingCapacity: true)
                    for t in 0..<T where mask & (1 << t) != 0 { tasks.append(t) }
                    for (t, rho) in zip(tasks, evidence[p].mergeDistortion(channel: i, tasks: tasks)) {
                        sharedKept[t * P + p] += 1
                        merge[t] += scoreA[keepOffset[t * P + p] + i] * rho
                    }
                } else {
                    let row = ((q << T) + mask) * T
                    for t in 0..<T where mask & (1 << t) != 0 {
                        sharedKept[t * P + p] += 1
                        merge[t] += scoreA[keepOffset[t * P + p] + i] * Double(distortion[row + t])
                    }
                }
            }
        }
        return Tally(lostMagnitude: lostA, lostIrreplaceability: lostB, mergeCost: merge,
                     counts: KeptCounts(kept: kept, union: union, shared: shared, sharedKept: sharedKept))
    }

    /// A group's loss from the fraction `lost` of its (unit-sum) score that its dropped channels
    /// carry. With a pre-specified rate every group loses the same share of channels, and the
    /// fraction itself is the loss. Where the optimizer sets the rates, the fraction would price
    /// cutting one group down to a channel at a fraction of the whole (1/P), though the layer
    /// then passes almost nothing on and the model fails (measured: single-model adaptive cut
    /// one group of the digits VGG to 1 of 32 channels, 10% accuracy); −ln(retained) makes
    /// that cost grow without bound while small losses cost about the same (−ln(1 − x) ≈ x).
    @inline(__always)
    func groupLoss(_ lost: Double) -> Double {
        convexGroupLoss ? -log(max(Self.leastRetained, 1 - lost)) : lost
    }

    static let leastRetained = 1e-3

    public func evaluate(_ x: [Bool]) -> Evaluation {
        let tally = x.withUnsafeBufferPointer { self.tally($0) }
        let groups = Double(max(1, groupCount))
        var objectives: [Double] = []
        objectives.reserveCapacity(objectiveCount)
        let useA = options.hasSignalObjective, useB = options.criteria.contains(.irreplaceability)
        for t in 0..<taskCount {
            // Merging's distortion is booked as magnitude; with magnitude off, as irreplaceability.
            if useA { objectives.append((tally.lostMagnitude[t] + tally.mergeCost[t]) / groups) }
            if useB { objectives.append((tally.lostIrreplaceability[t] + (useA ? 0 : tally.mergeCost[t])) / groups) }
        }
        objectives.append(cost.storage(tally.counts) / max(1, cost.originalStored.reduce(0, +)))
        return Evaluation(objectives: objectives, constraintViolation: budgetViolation(tally.counts))
    }

    /// Σ over tasks of how far the task's pruned model exceeds the budget (as a fraction).
    func budgetViolation(_ counts: KeptCounts) -> Double {
        guard case let .budget(measure, fraction) = options.target else { return 0 }
        var violation = 0.0
        for t in 0..<taskCount {
            let (now, before): (Double, Double)
            switch measure {
            case .params: (now, before) = (cost.params(counts, task: t), cost.originalParams[t])
            case .flops: (now, before) = (cost.macs(counts, task: t) ?? 0, cost.originalMACs?[t] ?? 1)
            }
            violation += max(0, now / max(1, before) - fraction)
        }
        return violation
    }

    /// Restores the counts each block must have (the pre-specified rate; at least one channel;
    /// multiples of `roundTo`), dropping the least worth keeping and adding the most, then
    /// clears share bits of channels fewer than two tasks keep.
    public func repair(_ x: inout [Bool], using rng: inout Xoshiro256StarStar) {
        let T = taskCount, P = groupCount
        for t in 0..<T {
            for p in 0..<P {
                let base = keepOffset[t * P + p]
                let found = x.withUnsafeBufferPointer { bits in
                    let flags = UnsafeRawPointer(bits.baseAddress!).assumingMemoryBound(to: UInt8.self)
                    var n = 0
                    for bit in base..<(base + sizes[p]) { n &+= Int(flags[bit]) }
                    return n
                }
                let want = targetCounts?[p] ?? Self.roundedCount(found, size: sizes[p], roundTo: options.roundTo)
                guard want != found else { continue }
                var count = found
                let order = repairOrder[t * P + p]
                if count > want {
                    for c in order where count > want && x[base + Int(c)] { x[base + Int(c)] = false; count -= 1 }
                } else {
                    for c in order.reversed() where count < want && !x[base + Int(c)] { x[base + Int(c)] = true; count += 1 }
                }
            }
        }
        guard hasShareBits else { return }
        for p in 0..<P {
            for i in 0..<sizes[p] where x[shareOffset[p] + i] {
                var mask = 0
                for t in 0..<T where x[keepOffset[t * P + p] + i] { mask |= 1 << t }
                if mask.nonzeroBitCount < 2 || !mayShare(group: p, channel: i, tasks: mask) { x[shareOffset[p] + i] = false }
            }
        }
    }

    /// Whether the tasks in `mask` may share channel i: merging must move no task's filter
    /// further than a twin τ alike would be, ‖w_t − w̄‖ / ‖w_t‖ ≤ √(2(1 − τ)). Tasks whose
    /// filters went apart keep their own (sharing them would save storage by breaking them).
    func mayShare(group p: Int, channel i: Int, tasks mask: Int) -> Bool {
        let bound = (2 * (1 - options.twinThreshold)).squareRoot() + 1e-12
        let T = taskCount
        if distortion.isEmpty {
            let tasks = (0..<T).filter { mask & (1 << $0) != 0 }
            return evidence[p].mergeDistortion(channel: i, tasks: tasks).allSatisfy { $0 <= bound }
        }
        let row = (((channelOffset[p] + i) << T) + mask) * T
        for t in 0..<T where mask & (1 << t) != 0 && Double(distortion[row + t]) > bound { return false }
        return true
    }
}
