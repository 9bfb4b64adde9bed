/// The request line and header section of one request, as parsed (RFC 9112 §3, §5).
public struct HTTPRequestHead: Sendable, Equatable {
    /// How the request's content is delimited (RFC 9112 §6.3).
    public enum BodyLength: Sendable, Equatable {
        case none
        case fixed(Int64)
        case chunked
    }

    public var method: HTTPMethod
    /// The request-target exactly as received.
    public var target: String
    /// The path of the target: absolute-form is reduced to its path; still percent-encoded.
    public var path: String
    /// What follows the first `?` of the target, still percent-encoded; nil when there is no `?`.
    public var query: String?
    public var version: HTTPVersion
    public var headers: HTTPHeaders
    public var bodyLength: BodyLength
    /// `Expect: 100-continue` on an HTTP/1.1 request (RFC 9110 §10.1.1).
    public var expectsContinue: Bool
    /// Peer address as `host:port` (`[v6]:port` for IPv6), set by the server.
    public var remoteAddress: String
    /// Unique per request, set by the server; also sent back as `X-Request-Id`.
    public var requestID: String

    public init(
        method: HTTPMethod, target: String, version: HTTPVersion = .http1_1, headers: HTTPHeaders = [:],
        bodyLength: BodyLength = .none, expectsContinue: Bool = false,
        remoteAddress: String = "", requestID: String = ""
    ) {
        self.method = method
        self.target = target
        (self.path, self.query) = HTTPRequestHead.split(target: target)
        self.version = version
        self.headers = headers
        self.bodyLength = bodyLength
        self.expectsContinue = expectsContinue
        self.remoteAddress = remoteAddress
        self.requestID = requestID
    }

    /// The declared Content-Length, when the body is not chunked.
    public var contentLength: Int64? {
        if case .fixed(let n) = bodyLength { return n }
        if case .none = bodyLength { return 0 }
        return nil
    }

    /// Whether the connection may stay open after this exchange (RFC 9112 §9.3): `close`
    /// ends it; HTTP/1.1 persists by default; HTTP/1.0 only with `Connection: keep-alive`.
    public var keepAlive: Bool {
        if headers.containsToken("close", in: "Connection") { return false }
        if version.major == 1 && version.minor >= 1 { return true }
        return headers.containsToken("keep-alive", in: "Connection")
    }

    /// Decoded `name=value` pairs of the query (`application/x-www-form-urlencoded` rules:
    /// `+` is a space); malformed escapes are kept as they are.
    public var queryParameters: [(name: String, value: String)] {
        guard let query, !query.isEmpty else { return [] }
        return query.split(separator: "&", omittingEmptySubsequences: true).map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = HTTPRequestHead.percentDecoded(parts[0], plusAsSpace: true) ?? String(parts[0])
            let raw = parts.count > 1 ? parts[1] : ""
            let value = HTTPRequestHead.percentDecoded(raw, plusAsSpace: true) ?? String(raw)
            return (name, value)
        }
    }

    /// The first query parameter named `name`, decoded.
    public func queryParameter(_ name: String) -> String? {
        queryParameters.first { $0.name == name }?.value
    }

    /// Percent-decodes (RFC 3986 §2.1) into UTF-8; nil on a malformed escape or invalid UTF-8.
    public static func percentDecoded<S: StringProtocol>(_ text: S, plusAsSpace: Bool = false) -> String? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var it = text.utf8.makeIterator()
        while let b = it.next() {
            if b == UInt8(ascii: "%") {
                guard let h = it.next().flatMap(hexValue), let l = it.next().flatMap(hexValue) else { return nil }
                bytes.append(h << 4 | l)
            } else if plusAsSpace && b == UInt8(ascii: "+") {
                bytes.append(UInt8(ascii: " "))
            } else {
                bytes.append(b)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    /// Splits a request-target into path and query (RFC 9112 §3.2). Absolute-form
    /// (`http://host/p?q`) is reduced to its path; authority- and asterisk-form stay whole.
    static func split(target: String) -> (path: String, query: String?) {
        // Origin-form, nearly every request: bytes, not Characters.
        if target.utf8.first == UInt8(ascii: "/") {
            guard let q = target.utf8.firstIndex(of: UInt8(ascii: "?")) else { return (target, nil) }
            return (String(target[..<q]), String(target[target.utf8.index(after: q)...]))
        }
        var rest = Substring(target)
        for scheme in ["http://", "https://"] where rest.utf8.count >= scheme.utf8.count {
            let prefix = rest.prefix(scheme.count)
            if asciiCaseInsensitiveEquals(prefix, scheme) {
                rest = rest.dropFirst(scheme.count)
                if let slash = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) {
                    rest = rest[slash...]
                } else {
                    rest = ""
                }
                if !rest.hasPrefix("/") { rest = Substring("/" + rest) }
                break
            }
        }
        if let q = rest.firstIndex(of: "?") {
            return (String(rest[..<q]), String(rest[rest.index(after: q)...]))
        }
        return (String(rest), nil)
    }
}

@inline(__always)
func hexValue(_ b: UInt8) -> UInt8? {
    switch b {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return b - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): return b - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): return b - UInt8(ascii: "A") + 10
    default: return nil
    }
}
