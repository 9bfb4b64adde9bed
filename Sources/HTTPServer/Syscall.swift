#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A failed system call: which call, and the errno it left.
public struct SystemError: Error, Equatable, CustomStringConvertible {
    public let call: String
    public let errno: Int32

    public init(_ call: String, errno: Int32) {
        self.call = call
        self.errno = errno
    }

    public var description: String { "\(call): \(String(cString: strerror(errno))) (errno \(errno))" }

    /// The call would have blocked a non-blocking descriptor.
    public var isWouldBlock: Bool { errno == EAGAIN || errno == EWOULDBLOCK }
}

/// Runs a system call that reports failure as -1 and errno, retrying when a signal interrupted
/// it (EINTR), and turning any other failure into a typed error.
@discardableResult
@inline(__always)
func syscall<T: FixedWidthInteger>(_ name: @autoclosure () -> String, _ body: () -> T) throws(SystemError) -> T {
    while true {
        let result = body()
        if result != -1 { return result }
        let code = errno
        if code == EINTR { continue }
        throw SystemError(name(), errno: code)
    }
}

/// As `syscall`, for a non-blocking descriptor: nil when the call would block.
@inline(__always)
func nonBlockingSyscall<T: FixedWidthInteger>(_ name: @autoclosure () -> String, _ body: () -> T) throws(SystemError) -> T? {
    do {
        return try syscall(name(), body)
    } catch where error.isWouldBlock {
        return nil
    }
}
