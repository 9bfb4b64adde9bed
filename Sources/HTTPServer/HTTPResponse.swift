/// What a handler returns: a status, header fields and a body. The server adds the framing
/// fields (Content-Length or Transfer-Encoding, Connection, Date) itself.
public struct HTTPResponse: Sendable {
    public enum Body: Sendable {
        case empty
        case bytes([UInt8])
        /// A file, or the byte range `range` of it, streamed from disk as it is sent.
        case file(HTTPFile, range: ClosedRange<Int64>?)
        /// Content produced while it is sent, e.g. Server-Sent Events: sent chunked to
        /// HTTP/1.1 clients, and delimited by closing the connection for HTTP/1.0 ones.
        case stream(@Sendable (HTTPBodyWriter) async throws -> Void)
    }

    public var status: HTTPStatus
    public var headers: HTTPHeaders
    public var body: Body
    /// Set by `gzipped(for:)` for file and stream bodies: the server deflates them while sending.
    public internal(set) var gzipWhileSending = false

    public init(status: HTTPStatus = .ok, headers: HTTPHeaders = [:], body: Body = .empty) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public static func bytes(_ bytes: [UInt8], status: HTTPStatus = .ok, contentType: String) -> HTTPResponse {
        HTTPResponse(status: status, headers: ["Content-Type": contentType], body: .bytes(bytes))
    }

    public static func text(_ text: String, status: HTTPStatus = .ok) -> HTTPResponse {
        bytes(Array(text.utf8), status: status, contentType: "text/plain; charset=utf-8")
    }

    /// `json` must already be encoded JSON text.
    public static func json(_ json: String, status: HTTPStatus = .ok) -> HTTPResponse {
        bytes(Array(json.utf8), status: status, contentType: "application/json")
    }

    /// The JSON error shape every error response uses: `{"error":{"code":..,"message":..}}`.
    public static func error(_ error: any HTTPResponseError) -> HTTPResponse {
        var response = HTTPResponse(
            status: error.status, headers: error.headers,
            body: .bytes(JSON.errorBody(code: error.code, message: error.message)))
        response.headers["Content-Type"] = "application/json"
        return response
    }

    /// 405 with the `Allow` field RFC 9110 §15.5.6 requires.
    public static func methodNotAllowed(_ method: HTTPMethod, allowed: [HTTPMethod]) -> HTTPResponse {
        error(HTTPError.methodNotAllowed(method, allowed: allowed))
    }

    /// The content length the body will have, when known before sending.
    var knownContentLength: Int64? {
        switch body {
        case .empty: return 0
        case .bytes(let b): return Int64(b.count)
        case .file(let file, let range): return gzipWhileSending ? nil : range.map { $0.upperBound - $0.lowerBound + 1 } ?? file.size
        case .stream: return nil
        }
    }
}

/// Sends the content of a `.stream` response. Each `write` returns once the bytes have been
/// handed to the kernel, so a producer can never run ahead of a slow client by more than one
/// write; it throws once the client is gone.
public final class HTTPBodyWriter: Sendable {
    private let send: @Sendable ([UInt8], CheckedContinuation<Void, any Error>) -> Void

    init(send: @escaping @Sendable ([UInt8], CheckedContinuation<Void, any Error>) -> Void) {
        self.send = send
    }

    public func write(_ bytes: [UInt8]) async throws {
        guard !bytes.isEmpty else { return }  // an empty chunk would end a chunked body
        try await withCheckedThrowingContinuation { send(bytes, $0) }
    }

    public func write(_ text: String) async throws {
        try await write(Array(text.utf8))
    }
}
