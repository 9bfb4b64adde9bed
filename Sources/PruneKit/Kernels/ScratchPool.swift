import Foundation

/// A 64-byte aligned Float buffer (a cache line, the widest vector load).
struct ScratchBuffer: @unchecked Sendable {
    let start: UnsafeMutablePointer<Float>
    let capacity: Int
}

/// Scratch buffers of the kernels (GEMM packing, im2col columns), kept between calls. A fresh
/// multi-megabyte allocation comes from mmap (or returns to the OS when freed), so every call
/// would first fault in and zero its pages: about 5% of a ResNet-sized product. Reused
/// buffers are already mapped and often still cached.
final class ScratchPool: @unchecked Sendable {
    static let shared = ScratchPool()

    /// Bytes kept when no product is running; larger buffers are freed on return.
    static let keptBytes = 64 << 20

    private let lock = NSLock()
    private var idle: [ScratchBuffer] = []

    /// A buffer of at least `count` floats: the smallest idle one that fits, else a new one.
    func take(_ count: Int) -> ScratchBuffer {
        let count = max(1, count)
        lock.lock()
        if let i = idle.indices.filter({ idle[$0].capacity >= count }).min(by: { idle[$0].capacity < idle[$1].capacity }) {
            let buffer = idle.remove(at: i)
            lock.unlock()
            return buffer
        }
        lock.unlock()
        let raw = UnsafeMutableRawPointer.allocate(byteCount: count * MemoryLayout<Float>.size, alignment: 64)
        return ScratchBuffer(start: raw.bindMemory(to: Float.self, capacity: count), capacity: count)
    }

    /// Returns a buffer; the smallest idle ones are freed while the total exceeds `keptBytes`.
    func give(_ buffer: ScratchBuffer) {
        lock.lock()
        idle.append(buffer)
        idle.sort { $0.capacity > $1.capacity }
        var surplus: [ScratchBuffer] = []
        var bytes = 0
        idle.removeAll { b in
            bytes += b.capacity * MemoryLayout<Float>.size
            if bytes > Self.keptBytes {
                surplus.append(b)
                return true
            }
            return false
        }
        lock.unlock()
        for b in surplus { b.start.deallocate() }
    }
}
