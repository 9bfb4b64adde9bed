import Synchronization

/// Request ids: 16 hex digits, unique within the process and not guessable from each other.
///
/// A counter passed through SplitMix64's finaliser, which is a bijection on 64 bits, under a
/// random key: distinct counts give distinct ids without asking the kernel for randomness on
/// every request (`UInt64.random` is a getrandom(2) call each time).
final class RequestIDs: Sendable {
    private let key: UInt64
    private let counter = Atomic<UInt64>(0)

    init() {
        key = UInt64.random(in: .min ... .max)
    }

    func next() -> String {
        let n = counter.wrappingAdd(1, ordering: .relaxed).newValue
        var z = n &* 0x9E37_79B9_7F4A_7C15 &+ key
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return String(unsafeUninitializedCapacity: 16) { buffer in
            let digits: StaticString = "0123456789abcdef"
            for i in 0..<16 {
                buffer[i] = digits.utf8Start[Int((z >> UInt64(60 - 4 * i)) & 0xF)]
            }
            return 16
        }
    }
}
