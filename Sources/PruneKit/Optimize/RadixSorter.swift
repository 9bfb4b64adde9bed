/// Sorts 0..<count by a Double key, for the bit-set sort, which orders the population once per
/// objective per generation (a comparison sort was a fifth of the run time at eight
/// objectives).
///
/// Keys become unsigned integers in the same order (sign bit flipped for positives, every bit
/// for negatives); a least-significant-digit radix sort orders them by their top three bytes
/// (sign, exponent and the first 12 bits of the mantissa; passes where every key has the same
/// byte are skipped), and an insertion sort on the full keys finishes: only keys equal in
/// those 24 bits can still be out of order, rarely more than a few. All eight bytes took
/// eight passes, and the top bytes, shared by most keys, serialize the bucket counters.
struct RadixSorter {
    private var keys: [UInt64]
    private var scratchKeys: [UInt64]
    private var order: [Int]
    private var scratch: [Int]
    private var counts: [Int]

    init(count: Int) {
        keys = Array(repeating: 0, count: count)
        scratchKeys = keys
        order = Array(0..<count)
        scratch = order
        counts = Array(repeating: 0, count: 3 * 256)
    }

    /// 0..<count in ascending order of `key` (ties, −0 and +0 among them, in any order).
    /// Afterwards `sortedKeys[i]` is the integer key of the i-th in that order: equal exactly
    /// when the values are equal, NaN aside.
    mutating func sort(by key: (Int) -> Double) -> [Int] {
        let n = keys.count
        keys.withUnsafeMutableBufferPointer { keysBuffer in
            scratchKeys.withUnsafeMutableBufferPointer { scratchKeysBuffer in
                order.withUnsafeMutableBufferPointer { orderBuffer in
                    scratch.withUnsafeMutableBufferPointer { scratchBuffer in
                        counts.withUnsafeMutableBufferPointer { countsBuffer in
                            guard n > 0 else { return }
                            let home = orderBuffer.baseAddress!
                            var keys = keysBuffer.baseAddress!, scratchKeys = scratchKeysBuffer.baseAddress!
                            var order = home, scratch = scratchBuffer.baseAddress!
                            let counts = countsBuffer.baseAddress!
                            for b in 0..<(3 * 256) { counts[b] = 0 }
                            for i in 0..<n {
                                // + 0 turns −0 into +0, so that equal values get equal keys.
                                let bits = (key(i) + 0).bitPattern
                                let k = bits & (1 << 63) != 0 ? ~bits : bits | (1 << 63)
                                keys[i] = k
                                order[i] = i
                                counts[Int(truncatingIfNeeded: k >> 40) & 255] &+= 1
                                counts[256 &+ Int(truncatingIfNeeded: k >> 48) & 255] &+= 1
                                counts[512 &+ Int(truncatingIfNeeded: k >> 56)] &+= 1
                            }
                            for pass in 0..<3 {
                                let bucket = counts + pass &* 256
                                let shift = UInt64(40 &+ 8 &* pass)
                                var total = 0
                                var shared = false
                                for b in 0..<256 {
                                    let c = bucket[b]
                                    if c == n {
                                        shared = true
                                        break
                                    }
                                    bucket[b] = total
                                    total &+= c
                                }
                                if shared { continue }
                                for i in 0..<n {
                                    let k = keys[i]
                                    let b = Int(truncatingIfNeeded: k >> shift) & 255
                                    let slot = bucket[b]
                                    scratch[slot] = order[i]
                                    scratchKeys[slot] = k
                                    bucket[b] = slot &+ 1
                                }
                                swap(&keys, &scratchKeys)
                                swap(&order, &scratch)
                            }
                            var i = 1
                            while i < n {
                                let k = keys[i]
                                if k < keys[i &- 1] {
                                    let o = order[i]
                                    var j = i
                                    while j > 0, keys[j &- 1] > k {
                                        keys[j] = keys[j &- 1]
                                        order[j] = order[j &- 1]
                                        j &-= 1
                                    }
                                    keys[j] = k
                                    order[j] = o
                                }
                                i &+= 1
                            }
                            // After an odd number of passes the result sits in the scratch storage.
                            if order != home {
                                home.update(from: order, count: n)
                                keysBuffer.baseAddress!.update(from: keys, count: n)
                            }
                        }
                    }
                }
            }
        }
        return order
    }

    /// The keys of the last `sort`, in sorted order.
    var sortedKeys: [UInt64] { keys }
}
