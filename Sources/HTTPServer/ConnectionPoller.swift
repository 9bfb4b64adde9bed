import CEpoll
import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// An epoll set of connections, driven by one Dispatch read source on the epoll descriptor.
///
/// A Dispatch source per socket costs, on Linux, a round trip through libdispatch's manager
/// thread for every event (it re-arms the descriptor after each handler, and wakes the
/// manager through an eventfd to do so): several thread wake-ups per small request. Here the
/// manager watches one descriptor per poller; when it fires, the handler takes every ready
/// connection from `epoll_wait` without blocking, serves them in turn, and asks again until
/// none is ready (within a bound), so a busy server serves many requests per wake-up.
///
/// The poller's serial `queue` is every one of its connections' queue: the handler, the
/// sweep's calls and every hop back from handler tasks run there. Registrations are
/// level-triggered, so an event is never lost while a connection does not want it; the
/// connection removes read interest while it does not want input.
final class ConnectionPoller: @unchecked Sendable {
    let queue: DispatchQueue
    private let epoll: Int32
    private let source: DispatchSourceRead
    private var connections: [UInt64: HTTPConnection] = [:]
    private var events = [cepoll_ready](repeating: cepoll_ready(), count: 128)
    private var stopped = false

    init(label: String, target: DispatchQueue) throws(SystemError) {
        epoll = try syscall("epoll_create1") { cepoll_create() }
        queue = DispatchQueue(label: label, target: target)
        source = DispatchSource.makeReadSource(fileDescriptor: epoll, queue: queue)
        source.setEventHandler { @Sendable [self] in poll() }
        source.setCancelHandler { @Sendable [epoll] in _ = close(epoll) }
        source.resume()
    }

    /// Stops watching; call once every connection is closed. Closes the epoll descriptor.
    func stop() {
        queue.async { @Sendable [self] in
            guard !stopped else { return }
            stopped = true
            source.cancel()
        }
    }

    // Called on `queue` only.

    func add(_ connection: HTTPConnection, read: Bool, write: Bool) throws(SystemError) {
        try syscall("epoll_ctl(ADD)") {
            cepoll_ctl(epoll, CEPOLL_CTL_ADD, connection.fd, Self.interest(read: read, write: write), connection.id)
        }
        connections[connection.id] = connection
    }

    func modify(_ connection: HTTPConnection, read: Bool, write: Bool) {
        _ = cepoll_ctl(epoll, CEPOLL_CTL_MOD, connection.fd, Self.interest(read: read, write: write), connection.id)
    }

    /// Forgets the connection; its descriptor may be closed right after.
    func remove(_ connection: HTTPConnection) {
        guard connections.removeValue(forKey: connection.id) != nil else { return }
        _ = cepoll_ctl(epoll, CEPOLL_CTL_DEL, connection.fd, 0, 0)
    }

    /// Errors and hang-ups are always reported; asking for nothing else still watches them.
    private static func interest(read: Bool, write: Bool) -> UInt32 {
        (read ? CEPOLL_IN : 0) | (write ? CEPOLL_OUT : 0)
    }

    private func poll() {
        guard !stopped else { return }
        // Bounded, so that hops back from handler tasks queued behind us get their turn.
        for _ in 0..<16 {
            let count = events.withUnsafeMutableBufferPointer { buffer in
                cepoll_wait(epoll, buffer.baseAddress, Int32(buffer.count), 0)
            }
            guard count > 0 else { return }
            for i in 0..<Int(count) {
                let event = events[i]
                guard let connection = connections[event.data] else { continue }
                let failed = event.events & (CEPOLL_HUP | CEPOLL_ERR) != 0
                connection.ready(
                    read: failed || event.events & CEPOLL_IN != 0,
                    write: failed || event.events & CEPOLL_OUT != 0,
                    failed: failed)
            }
        }
    }
}
