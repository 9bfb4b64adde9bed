import Dispatch
import Logging

extension HTTPServer {
    public struct Configuration: Sendable {
        /// Address to bind: "::" is every IPv6 and (v4-mapped) IPv4 address.
        public var host: String = "::"
        /// 0 picks a free port; `HTTPServer.port` tells which.
        public var port: Int = 8080
        public var backlog: Int32 = 511
        /// Open connections served at once; the next ones get a 503 and are closed.
        public var maxConnections: Int = 1024
        public var limits = HTTPLimits()
        public var timeouts = Timeouts()
        /// How long to stop accepting after the process ran out of descriptors (EMFILE/ENFILE).
        public var acceptBackoff: Duration = .milliseconds(100)
        /// The server's own events; request ids go in metadata.
        public var logger = Logger(label: "pruned.http")
        /// Called once per request when its response has been sent (or the exchange aborted):
        /// the place for access logs and metrics.
        public var onRequestComplete: (@Sendable (HTTPAccessRecord) -> Void)?

        public init() {}
    }

    public struct Timeouts: Sendable {
        /// From the first byte of a request (or from accepting the connection) until its
        /// header section is complete; a slow-headers client (slowloris) gets a 408.
        public var header: Duration = .seconds(10)
        /// An open keep-alive connection with no request on it is closed after this.
        public var idle: Duration = .seconds(60)
        /// No body bytes for this long while the server wants them → 408.
        public var body: Duration = .seconds(30)
        /// No progress sending a response for this long → the connection is dropped.
        public var write: Duration = .seconds(60)
        /// After a response with `Connection: close`, unread input is drained for up to this
        /// long, so the kernel does not answer it with a reset that destroys the response.
        public var linger: Duration = .seconds(2)

        public init() {}
    }
}

/// One request as the server saw it, for access logs and metrics.
public struct HTTPAccessRecord: Sendable {
    public var requestID: String
    public var method: HTTPMethod
    public var target: String
    /// The path of `target` (see `HTTPRequestHead.path`).
    public var path: String
    public var remoteAddress: String
    /// 0 when no response was sent.
    public var status: Int
    /// Request content bytes received.
    public var bytesReceived: Int64
    /// Response bytes sent, head included.
    public var bytesSent: Int64
    public var duration: Duration
    /// False when the connection failed before the response was complete.
    public var completed: Bool
}

extension Duration {
    var dispatchInterval: DispatchTimeInterval {
        let (seconds, attoseconds) = components
        return .nanoseconds(Int(seconds) * 1_000_000_000 + Int(attoseconds / 1_000_000_000))
    }
}
