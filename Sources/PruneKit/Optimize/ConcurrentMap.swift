import Dispatch

/// `xs.map(transform)` with the calls spread over all cores; the result keeps `xs`'s order,
/// so it does not depend on scheduling.
@usableFromInline
func concurrentMap<T: Sendable, R: Sendable>(_ xs: [T], _ transform: @Sendable (T) -> R) -> [R] {
    guard xs.count > 1 else { return xs.map(transform) }
    return [R](unsafeUninitializedCapacity: xs.count) { buffer, initialized in
        let slots = DisjointSlots(base: buffer.baseAddress!)
        DispatchQueue.concurrentPerform(iterations: xs.count) { i in
            (slots.base + i).initialize(to: transform(xs[i]))
        }
        initialized = xs.count
    }
}

/// Each iteration of `concurrentMap` initializes only its own slot, so handing the buffer to
/// every thread races on nothing.
private struct DisjointSlots<R>: @unchecked Sendable {
    let base: UnsafeMutablePointer<R>
}
