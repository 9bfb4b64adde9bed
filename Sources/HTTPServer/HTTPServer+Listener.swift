import Dispatch
import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The listening socket and its read source. All mutable state is confined to `queue`.
final class Listener: @unchecked Sendable {
    let fd: Int32
    let context: ServerContext
    private let queue = DispatchQueue(label: "pruned.http.accept", qos: .userInitiated)
    private let source: DispatchSourceRead
    private var paused = false
    private var stopped = false
    private let closed = Atomic<Bool>(false)

    init(fd: Int32, context: ServerContext) {
        self.fd = fd
        self.context = context
        source = DispatchSource.makeReadSource(fileDescriptor: fd, queue: queue)
    }

    var isClosed: Bool { closed.load(ordering: .acquiring) }

    func start() {
        source.setEventHandler { @Sendable [self] in acceptPending() }
        source.setCancelHandler { @Sendable [self] in
            _ = close(fd)
            closed.store(true, ordering: .releasing)
        }
        source.resume()
    }

    func stop() {
        queue.async { @Sendable [self] in
            guard !stopped else { return }
            stopped = true
            // A suspended source never runs its cancel handler; resume it first.
            if paused {
                paused = false
                source.resume()
            }
            source.cancel()
        }
    }

    /// Accepts until the backlog is empty (EAGAIN). Per accept(2), errors that belong to the
    /// pending connection rather than the socket are retried; running out of descriptors or
    /// memory pauses accepting briefly; nothing stops the listener for good.
    private func acceptPending() {
        while !stopped {
            var storage = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            do {
                let client = try withUnsafeMutablePointer(to: &storage) { (p) throws(SystemError) in
                    try p.withMemoryRebound(to: sockaddr.self, capacity: 1) { (sa) throws(SystemError) in
                        try syscall("accept") { accept(fd, sa, &length) }
                    }
                }
                // accept4 is not exported by Swift's Glibc module; nothing forks between the
                // two calls, so setting the flags afterwards loses nothing.
                do {
                    try syscall("fcntl(F_SETFD)") { fcntl(client, F_SETFD, FD_CLOEXEC) }
                    let flags = try syscall("fcntl(F_GETFL)") { fcntl(client, F_GETFL) }
                    try syscall("fcntl(F_SETFL)") { fcntl(client, F_SETFL, flags | O_NONBLOCK) }
                } catch {
                    context.configuration.logger.error("cannot configure accepted socket", metadata: ["error": "\(error)"])
                    _ = close(client)  // never registered with a source
                    continue
                }
                context.accepted(fd: client, peer: storage)
            } catch {
                switch error.errno {
                case EAGAIN, EWOULDBLOCK:
                    return
                case ECONNABORTED, EPROTO, ENETDOWN, ENOPROTOOPT, EHOSTDOWN, ENONET, EHOSTUNREACH, EOPNOTSUPP,
                    ENETUNREACH, EPERM:
                    continue
                case EMFILE, ENFILE, ENOBUFS, ENOMEM:
                    context.configuration.logger.warning("accept: out of resources, pausing", metadata: ["error": "\(error)"])
                    backOff()
                    return
                default:
                    context.configuration.logger.error("accept failed", metadata: ["error": "\(error)"])
                    backOff()
                    return
                }
            }
        }
    }

    /// Suspends the read source for a moment: with no descriptor to accept into, the
    /// level-triggered source would otherwise spin on the pending connection.
    private func backOff() {
        guard !paused, !stopped else { return }
        paused = true
        source.suspend()
        queue.asyncAfter(deadline: .now() + context.configuration.acceptBackoff.dispatchInterval) { @Sendable [self] in
            guard paused, !stopped else { return }
            paused = false
            source.resume()
            acceptPending()
        }
    }
}
