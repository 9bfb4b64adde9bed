/// An incremental HTTP/1.1 request parser (RFC 9112): a pure state machine fed bytes in pieces
/// of any size, with no I/O of its own.
///
/// Call `parse(_:)` with the unconsumed input; it consumes bytes until it has an event (or the
/// input is used up, returning nil). Events come in the order `.head`, any number of `.body`,
/// `.end`; then the next request of a pipeline starts. Body slices point into the input, so
/// content passes through without being copied or buffered here. The first error is final:
/// the connection cannot be resynchronised after it, so every later call throws it again.
public struct HTTPRequestParser: Sendable {
    public enum Event: Sendable, Equatable {
        case head(HTTPRequestHead)
        case body(ArraySlice<UInt8>)
        case end(trailers: HTTPHeaders)
    }

    enum State: Sendable {
        case requestLine
        case headerLines
        case fixedBody(remaining: Int64)
        case chunkLine
        case chunkData(remaining: Int64)
        case chunkDataCR
        case chunkDataLF
        case trailerLines
        case endPending
        case failed(HTTPError)
    }

    public let limits: HTTPLimits
    var state: State = .requestLine
    /// The line being accumulated across calls (without its LF).
    var line: [UInt8] = []
    var requestLine: (method: HTTPMethod, target: String, version: HTTPVersion)?
    var fields = HTTPHeaders()
    var sectionBytes = 0
    var emptyLinesBytes = 0
    var bodyReceived: Int64 = 0

    public init(limits: HTTPLimits = HTTPLimits()) {
        self.limits = limits
    }

    /// True once any byte of a request has been consumed and until its `.end` is returned.
    public var isInsideMessage: Bool {
        if case .requestLine = state { return !line.isEmpty || emptyLinesBytes > 0 }
        return true
    }

    public mutating func parse(_ input: inout ArraySlice<UInt8>) throws(HTTPError) -> Event? {
        do {
            return try step(&input)
        } catch {
            state = .failed(error)
            throw error
        }
    }

    private mutating func step(_ input: inout ArraySlice<UInt8>) throws(HTTPError) -> Event? {
        while true {
            switch state {
            case .failed(let error):
                throw error

            case .requestLine:
                guard let bytes = try takeLine(&input, limit: limits.maxRequestLineBytes, error: .uriTooLong) else {
                    return nil
                }
                if bytes.isEmpty {
                    // RFC 9112 §2.2: ignore empty lines before the request-line, within reason.
                    emptyLinesBytes += 2
                    if emptyLinesBytes > limits.maxRequestLineBytes { throw .badRequest("too many empty lines") }
                    continue
                }
                requestLine = try Self.parseRequestLine(bytes)
                state = .headerLines

            case .headerLines:
                guard let bytes = try takeFieldLine(&input) else { return nil }
                if bytes.isEmpty {
                    let head = try finishHead()
                    return .head(head)
                }
                try appendField(bytes)

            case .fixedBody(let remaining):
                guard let (slice, left) = Self.takeBody(&input, remaining: remaining) else { return nil }
                state = left == 0 ? .endPending : .fixedBody(remaining: left)
                return .body(slice)

            case .chunkLine:
                guard let bytes = try takeLine(
                    &input, limit: limits.maxChunkLineBytes, error: .badRequest("chunk-size line too long"),
                    requireCR: true)
                else { return nil }
                let size = try Self.parseChunkLine(bytes)
                if size == 0 {
                    fields = HTTPHeaders()
                    sectionBytes = 0
                    state = .trailerLines
                    continue
                }
                let (total, overflow) = bodyReceived.addingReportingOverflow(size)
                if overflow || total > limits.maxBodyBytes { throw .contentTooLarge(limit: limits.maxBodyBytes) }
                bodyReceived = total
                state = .chunkData(remaining: size)

            case .chunkData(let remaining):
                guard let (slice, left) = Self.takeBody(&input, remaining: remaining) else { return nil }
                state = left == 0 ? .chunkDataCR : .chunkData(remaining: left)
                return .body(slice)

            case .chunkDataCR, .chunkDataLF:
                // RFC 9112 §7.1: chunk-data is followed by exactly CRLF.
                guard let byte = input.first else { return nil }
                input = input.dropFirst()
                if case .chunkDataCR = state {
                    guard byte == .cr else { throw .badRequest("chunk data not followed by CRLF") }
                    state = .chunkDataLF
                } else {
                    guard byte == .lf else { throw .badRequest("chunk data not followed by CRLF") }
                    state = .chunkLine
                }

            case .trailerLines:
                guard let bytes = try takeFieldLine(&input) else { return nil }
                if bytes.isEmpty {
                    let trailers = fields
                    resetForNextMessage()
                    return .end(trailers: trailers)
                }
                try appendField(bytes)

            case .endPending:
                resetForNextMessage()
                return .end(trailers: HTTPHeaders())
            }
        }
    }

    private mutating func resetForNextMessage() {
        state = .requestLine
        line.removeAll(keepingCapacity: true)
        requestLine = nil
        fields = HTTPHeaders()
        sectionBytes = 0
        emptyLinesBytes = 0
        bodyReceived = 0
    }

    /// Takes the next complete line out of `input`, or buffers what there is and returns nil.
    /// RFC 9112 §2.2: CRLF ends a line; a bare LF is accepted for the start line and fields,
    /// but chunk framing (`requireCR`) insists on CRLF, and a CR anywhere else is an error.
    private mutating func takeLine(
        _ input: inout ArraySlice<UInt8>, limit: Int, error: HTTPError, requireCR: Bool = false
    ) throws(HTTPError) -> [UInt8]? {
        guard let lf = input.firstIndex(of: .lf) else {
            line.append(contentsOf: input)
            input = input[input.endIndex...]
            // One byte of slack: the line may end in the CR of a CRLF still to come.
            if line.count > limit + 1 || (line.count == limit + 1 && line.last != .cr) { throw error }
            return nil
        }
        line.append(contentsOf: input[input.startIndex..<lf])
        input = input[(lf + 1)...]
        var result = line
        line.removeAll(keepingCapacity: true)
        if result.last == .cr {
            result.removeLast()
        } else if requireCR {
            throw .badRequest("line not terminated by CRLF")
        }
        if result.count > limit { throw error }
        if result.contains(.cr) { throw .badRequest("bare CR in line") }
        return result
    }

    private mutating func takeFieldLine(_ input: inout ArraySlice<UInt8>) throws(HTTPError) -> [UInt8]? {
        try takeLine(&input, limit: limits.maxHeaderFieldBytes, error: .headerFieldsTooLarge("a header field line is too long"))
    }

    /// Up to `remaining` body bytes from the front of `input`, and how many are still to come;
    /// nil when `input` is empty. Shared by Content-Length bodies and chunk data.
    private static func takeBody(_ input: inout ArraySlice<UInt8>, remaining: Int64) -> (ArraySlice<UInt8>, left: Int64)? {
        guard !input.isEmpty else { return nil }
        let n = Int(min(remaining, Int64(input.count)))
        let slice = input.prefix(n)
        input = input.dropFirst(n)
        return (slice, remaining - Int64(n))
    }

    /// Adds one field line to the section being read, enforcing the section limits.
    private mutating func appendField(_ bytes: [UInt8]) throws(HTTPError) {
        sectionBytes += bytes.count + 2
        if sectionBytes > limits.maxHeaderSectionBytes {
            throw .headerFieldsTooLarge("the header section is too large")
        }
        if fields.count >= limits.maxHeaderFields {
            throw .headerFieldsTooLarge("too many header fields")
        }
        let field = try Self.parseFieldLine(bytes)
        fields.add(field.name, field.value)
    }
}

extension UInt8 {
    static let cr = UInt8(ascii: "\r")
    static let lf = UInt8(ascii: "\n")
    static let sp = UInt8(ascii: " ")
    static let htab = UInt8(ascii: "\t")

    /// tchar (RFC 9110 §5.6.2).
    var isTokenChar: Bool {
        switch self {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"),
            UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."),
            UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    /// field-vchar / SP / HTAB (RFC 9110 §5.5): visible ASCII or obs-text.
    var isFieldValueChar: Bool { self == .sp || self == .htab || (self >= 0x21 && self != 0x7F) }
}
