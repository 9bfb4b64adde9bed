/// Every size limit the server enforces on a request, in one place. Each limit names the
/// status a request that exceeds it gets.
public struct HTTPLimits: Sendable, Equatable {
    /// Request line, without its CRLF → 414 (RFC 9112 §3: servers SHOULD accept at least 8000 octets).
    public var maxRequestLineBytes: Int = 8 * 1024
    /// One header or trailer field line → 431 (RFC 6585 §5).
    public var maxHeaderFieldBytes: Int = 8 * 1024
    /// The whole header section, and separately the whole trailer section → 431.
    public var maxHeaderSectionBytes: Int = 64 * 1024
    /// Field lines in the header section, and separately in the trailer section → 431.
    public var maxHeaderFields: Int = 100
    /// Request content, declared or chunked → 413 (RFC 9110 §15.5.14).
    public var maxBodyBytes: Int64 = 1 << 30
    /// A chunk-size line with its extensions → 400 (RFC 9112 §7.1.1 lets servers limit these).
    public var maxChunkLineBytes: Int = 4 * 1024

    public init() {}

    public init(
        maxRequestLineBytes: Int = 8 * 1024, maxHeaderFieldBytes: Int = 8 * 1024,
        maxHeaderSectionBytes: Int = 64 * 1024, maxHeaderFields: Int = 100,
        maxBodyBytes: Int64 = 1 << 30, maxChunkLineBytes: Int = 4 * 1024
    ) {
        self.maxRequestLineBytes = maxRequestLineBytes
        self.maxHeaderFieldBytes = maxHeaderFieldBytes
        self.maxHeaderSectionBytes = maxHeaderSectionBytes
        self.maxHeaderFields = maxHeaderFields
        self.maxBodyBytes = maxBodyBytes
        self.maxChunkLineBytes = maxChunkLineBytes
    }
}
