import Dispatch
import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A minimal HTTP/1.1 server on POSIX sockets and Dispatch.
///
/// Every socket is non-blocking. Connections are spread over a few epoll sets
/// (`ConnectionPoller`), each driven by a Dispatch source on a serial queue, so no thread ever
/// blocks on a socket; handlers run as Swift tasks.
///
/// ```swift
/// let server = HTTPServer(configuration: config) { request in
///     .text("hello \(request.path)")
/// }
/// let port = try server.start()
/// ...
/// await server.shutdown(gracePeriod: .seconds(10))
/// ```
public final class HTTPServer: Sendable {
    public typealias Handler = @Sendable (HTTPRequest) async throws -> HTTPResponse
    /// Answers a request at once, on the connection's own queue, or returns nil to pass it to
    /// the `Handler`. See `init(configuration:immediate:handler:)`.
    public typealias ImmediateHandler = @Sendable (HTTPRequest) -> HTTPResponse?

    let context: ServerContext
    private let listener = Mutex<Listener?>(nil)
    private let boundPort = Mutex<Int?>(nil)

    /// `immediate`, when given, is tried first for every request without content, right where
    /// the request was parsed: no task is started and no thread woken, which is most of the
    /// cost of a small request. It must return promptly and never block (no file or network
    /// I/O, no lock held for long); whatever needs that returns nil and goes to `handler`.
    public init(configuration: Configuration = Configuration(), immediate: ImmediateHandler? = nil, handler: @escaping Handler) {
        context = ServerContext(configuration: configuration, immediate: immediate, handler: handler)
    }

    /// Binds, listens and starts accepting. Returns the bound port (useful with port 0).
    @discardableResult
    public func start() throws(SystemError) -> Int {
        // Writes use MSG_NOSIGNAL, but sendfile cannot: a peer that vanished must not kill us.
        signal(SIGPIPE, SIG_IGN)
        let config = context.configuration
        let (fd, port) = try Socket.listen(host: config.host, port: config.port, backlog: config.backlog)
        do {
            try context.startPollers()
        } catch {
            _ = close(fd)
            throw error
        }
        let listener = Listener(fd: fd, context: context)
        self.listener.withLock { current in
            precondition(current == nil && boundPort.withLock({ $0 }) == nil, "HTTPServer.start() called twice")
            current = listener
        }
        boundPort.withLock { $0 = port }
        context.setAccepting(true)
        context.sweep.start(context: context)
        listener.start()
        config.logger.info("listening", metadata: ["host": "\(config.host)", "port": "\(port)"])
        return port
    }

    /// The bound port, once started.
    public var port: Int? { boundPort.withLock { $0 } }

    /// Connections currently open (served or being refused with 503).
    public var connectionCount: Int { context.connectionCount }

    /// Stops accepting, lets in-flight requests finish (idle keep-alive connections close at
    /// once, busy ones after their current response), and after `gracePeriod` closes whatever
    /// is left. Returns when every connection and the listening socket are closed.
    public func shutdown(gracePeriod: Duration = .seconds(10)) async {
        context.setAccepting(false)
        let listener = self.listener.withLock { l -> Listener? in
            defer { l = nil }
            return l
        }
        listener?.stop()
        for connection in context.openConnections() { connection.drain() }
        let clock = ContinuousClock()
        let deadline = clock.now + gracePeriod
        while context.connectionCount > 0 && clock.now < deadline {
            try? await Task.sleep(for: .milliseconds(5))
        }
        let stragglers = context.openConnections()
        if !stragglers.isEmpty {
            context.configuration.logger.warning("closing connections still busy after the grace period", metadata: ["count": "\(stragglers.count)"])
            for connection in stragglers { connection.forceClose() }
        }
        // Cancel handlers run promptly once sources are cancelled; the bound only guards
        // against waiting forever on a bug.
        let last = clock.now + .seconds(5)
        while (context.connectionCount > 0 || (listener.map { !$0.isClosed } ?? false)) && clock.now < last {
            try? await Task.sleep(for: .milliseconds(5))
        }
        context.sweep.stop()
        context.stopPollers()
    }
}

/// What connections share: configuration, handler, and the registry of open connections.
final class ServerContext: Sendable {
    let configuration: HTTPServer.Configuration
    let handler: HTTPServer.Handler
    let immediate: HTTPServer.ImmediateHandler?
    /// Poller queues target this queue; none of their work ever blocks on a socket.
    let ioQueue = DispatchQueue(label: "pruned.http.io", qos: .userInitiated, attributes: .concurrent)

    private struct Registry {
        var pollers: [ConnectionPoller] = []
        var connections: [UInt64: HTTPConnection] = [:]
        var serving = 0
        var refusing = 0
        var nextID: UInt64 = 0
        var accepting = false
    }
    private let registry = Mutex(Registry())
    let sweep: TimeoutSweep
    let requestIDs = RequestIDs()

    init(configuration: HTTPServer.Configuration, immediate: HTTPServer.ImmediateHandler?, handler: @escaping HTTPServer.Handler) {
        self.configuration = configuration
        self.immediate = immediate
        self.handler = handler
        sweep = TimeoutSweep(timeouts: configuration.timeouts)
    }

    /// Connections whose published deadline is at or before `now` (uptime nanoseconds).
    func connections(dueBy now: UInt64) -> [HTTPConnection] {
        registry.withLock { r in
            r.connections.values.filter { $0.publishedDeadline.load(ordering: .relaxed) <= now }
        }
    }

    var connectionCount: Int { registry.withLock { $0.connections.count } }

    /// One poller per processor (at most 8): each one's connections are served on one thread
    /// at a time, like an event loop.
    func startPollers() throws(SystemError) {
        let count = max(1, min(8, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))))
        var made: [ConnectionPoller] = []
        for i in 0..<count {
            made.append(try ConnectionPoller(label: "pruned.http.poller.\(i)", target: ioQueue))
        }
        registry.withLock { $0.pollers = made }
    }

    /// After the last connection closed: closes the epoll descriptors.
    func stopPollers() {
        for poller in registry.withLock({ r -> [ConnectionPoller] in
            defer { r.pollers = [] }
            return r.pollers
        }) {
            poller.stop()
        }
    }

    func openConnections() -> [HTTPConnection] { registry.withLock { Array($0.connections.values) } }

    func setAccepting(_ accepting: Bool) { registry.withLock { $0.accepting = accepting } }

    /// Takes ownership of an accepted descriptor: serves it, refuses it with a 503 when the
    /// server is full, or closes it outright when even refusals are too many.
    func accepted(fd: Int32, peer: sockaddr_storage) {
        try? Socket.setOption(fd, Int32(IPPROTO_TCP), TCP_NODELAY, 1)
        let (host, port) = Socket.describe(peer)
        let remote = "\(host):\(port)"
        let maxConnections = configuration.maxConnections
        // Refusing costs a descriptor for up to the linger time; cap that too.
        let maxRefusing = max(16, maxConnections / 8)
        let connection: HTTPConnection? = registry.withLock { r in
            guard r.accepting, !r.pollers.isEmpty else { return nil }
            let refuse = r.serving >= maxConnections
            if refuse && r.refusing >= maxRefusing { return nil }
            r.nextID += 1
            let poller = r.pollers[Int(r.nextID % UInt64(r.pollers.count))]
            let c = HTTPConnection(id: r.nextID, fd: fd, remoteAddress: remote, refuse: refuse, context: self, poller: poller)
            r.connections[c.id] = c
            if refuse { r.refusing += 1 } else { r.serving += 1 }
            return c
        }
        guard let connection else {
            // It was never in an epoll set, so closing here is safe.
            _ = close(fd)
            return
        }
        connection.start()
    }

    /// Called on the connection's queue once its descriptor is closed.
    func connectionClosed(_ connection: HTTPConnection) {
        registry.withLock { r in
            guard r.connections.removeValue(forKey: connection.id) != nil else { return }
            if connection.refuse { r.refusing -= 1 } else { r.serving -= 1 }
        }
    }
}
