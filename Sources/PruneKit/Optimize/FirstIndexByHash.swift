/// Hash value → the first index stored under it: what duplicate elimination looks candidates
/// up by. The keys are hash values already, so their low bits pick the slot directly (linear
/// probing); a Dictionary would hash them again, which with its bookkeeping cost a few
/// percent of a run.
@usableFromInline
struct FirstIndexByHash {
    @usableFromInline var keys: [Int]
    /// The index stored in each slot, −1 where the slot is empty.
    @usableFromInline var indices: [Int]
    @usableFromInline let mask: Int

    /// Room for `capacity` entries at most half full.
    @inlinable
    init(capacity: Int) {
        var size = 8
        while size < 2 * capacity { size <<= 1 }
        keys = Array(repeating: 0, count: size)
        indices = Array(repeating: -1, count: size)
        mask = size - 1
    }

    /// The index stored under `hash`, or nil.
    @inlinable
    func first(_ hash: Int) -> Int? {
        var slot = hash & mask
        while indices[slot] >= 0 {
            if keys[slot] == hash { return indices[slot] }
            slot = (slot &+ 1) & mask
        }
        return nil
    }

    /// Stores `index` under `hash` unless an index is stored there already. At most
    /// `capacity` distinct hashes may go in.
    @inlinable
    mutating func insertIfAbsent(_ hash: Int, _ index: Int) {
        var slot = hash & mask
        while indices[slot] >= 0 {
            if keys[slot] == hash { return }
            slot = (slot &+ 1) & mask
        }
        keys[slot] = hash
        indices[slot] = index
    }
}
