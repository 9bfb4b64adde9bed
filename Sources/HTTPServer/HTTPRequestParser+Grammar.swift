extension HTTPRequestParser {
    /// request-line = method SP request-target SP HTTP-version (RFC 9112 §3), single spaces.
    static func parseRequestLine(_ bytes: [UInt8]) throws(HTTPError) -> (HTTPMethod, String, HTTPVersion) {
        guard let sp1 = bytes.firstIndex(of: .sp) else { throw .badRequest("malformed request line") }
        let methodBytes = bytes[..<sp1]
        guard !methodBytes.isEmpty, methodBytes.allSatisfy(\.isTokenChar) else {
            throw .badRequest("malformed request method")
        }
        let afterMethod = bytes[(sp1 + 1)...]
        guard let sp2 = afterMethod.firstIndex(of: .sp) else { throw .badRequest("malformed request line") }
        let targetBytes = afterMethod[..<sp2]
        // request-target has no whitespace or controls (RFC 9112 §3.2); everything is VCHAR.
        guard !targetBytes.isEmpty, targetBytes.allSatisfy({ $0 >= 0x21 && $0 < 0x7F }) else {
            throw .badRequest("malformed request target")
        }
        let version = try parseVersion(bytes[(sp2 + 1)...])
        let method = HTTPMethod(String(decoding: methodBytes, as: UTF8.self))
        let target = String(decoding: targetBytes, as: UTF8.self)
        // RFC 9112 §3.2: origin-form starts with "/"; absolute-form names a scheme;
        // authority-form is for CONNECT only and asterisk-form for OPTIONS only.
        if targetBytes.first != UInt8(ascii: "/") {
            let isAbsolute = targetBytes.contains(UInt8(ascii: ":")) && targetBytes.first.map(isAlpha) == true
            let isAsterisk = target == "*" && method == .options
            let isAuthority = method.rawValue == "CONNECT"
            guard isAbsolute || isAsterisk || isAuthority else { throw .badRequest("malformed request target") }
        }
        return (method, target, version)
    }

    /// HTTP-version = "HTTP/" DIGIT "." DIGIT (RFC 9112 §2.3); only major version 1 is served.
    static func parseVersion(_ bytes: ArraySlice<UInt8>) throws(HTTPError) -> HTTPVersion {
        let prefix: [UInt8] = Array("HTTP/".utf8)
        guard bytes.count == 8, bytes.starts(with: prefix) else { throw .badRequest("malformed HTTP version") }
        let b = Array(bytes)
        guard isDigit(b[5]), b[6] == UInt8(ascii: "."), isDigit(b[7]) else { throw .badRequest("malformed HTTP version") }
        let version = HTTPVersion(major: Int(b[5] - 48), minor: Int(b[7] - 48))
        guard version.major == 1 else { throw .versionNotSupported }
        return version
    }

    /// field-line = field-name ":" OWS field-value OWS (RFC 9112 §5). Whitespace before the
    /// colon (§5.1) and obs-fold (§5.2) are rejected with 400, as are CTLs in the value (§5.5).
    static func parseFieldLine(_ bytes: [UInt8]) throws(HTTPError) -> HTTPHeaders.Field {
        if let first = bytes.first, first == .sp || first == .htab {
            throw .badRequest("obsolete line folding in header section")
        }
        guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")) else { throw .badRequest("header field without a colon") }
        let name = bytes[..<colon]
        guard !name.isEmpty, name.allSatisfy(\.isTokenChar) else { throw .badRequest("malformed header field name") }
        var value = bytes[(colon + 1)...]
        while let f = value.first, f == .sp || f == .htab { value = value.dropFirst() }
        while let l = value.last, l == .sp || l == .htab { value = value.dropLast() }
        guard value.allSatisfy(\.isFieldValueChar) else { throw .badRequest("invalid character in header field value") }
        return HTTPHeaders.Field(name: String(decoding: name, as: UTF8.self), value: decodeFieldValue(value))
    }

    /// Field values are octets; obs-text (0x80-0xFF) is kept as ISO-8859-1 so no byte is lost.
    static func decodeFieldValue(_ bytes: ArraySlice<UInt8>) -> String {
        if bytes.allSatisfy({ $0 < 0x80 }) { return String(decoding: bytes, as: UTF8.self) }
        var scalars = String.UnicodeScalarView()
        for b in bytes { scalars.append(Unicode.Scalar(b)) }
        return String(scalars)
    }

    /// Validates the header section and decides how the body is delimited.
    mutating func finishHead() throws(HTTPError) -> HTTPRequestHead {
        guard let requestLine else { throw .badRequest("missing request line") }
        let (method, target, version) = requestLine

        // RFC 9112 §3.2: 400 for an HTTP/1.1 request without Host, or with more than one.
        let hosts = fields.values("Host")
        if hosts.count > 1 || (hosts.isEmpty && version.minor >= 1) {
            throw .badRequest(hosts.isEmpty ? "missing Host header" : "more than one Host header")
        }

        let bodyLength = try Self.bodyLength(of: fields, version: version, limits: limits)

        // RFC 9110 §10.1.1: only 100-continue is defined; an HTTP/1.0 expectation is ignored.
        var expectsContinue = false
        if version.minor >= 1 && fields.contains("Expect") {
            for member in fields.listMembers("Expect") {
                guard asciiCaseInsensitiveEquals(member, "100-continue") else {
                    throw .expectationFailed(String(member))
                }
                expectsContinue = true
            }
        }

        let head = HTTPRequestHead(
            method: method, target: target, version: version, headers: fields,
            bodyLength: bodyLength, expectsContinue: expectsContinue)
        fields = HTTPHeaders()
        sectionBytes = 0
        switch bodyLength {
        case .none, .fixed(0): state = .endPending
        case .fixed(let n): state = .fixedBody(remaining: n)
        case .chunked: state = .chunkLine
        }
        return head
    }

    /// Message body length of a request (RFC 9112 §6.3), with the rejections DESIGN.md asks for.
    static func bodyLength(
        of fields: HTTPHeaders, version: HTTPVersion, limits: HTTPLimits
    ) throws(HTTPError) -> HTTPRequestHead.BodyLength {
        let hasTE = fields.contains("Transfer-Encoding")
        let hasCL = fields.contains("Content-Length")
        if hasTE {
            // §6.1: HTTP/1.0 has no transfer codings, so its framing is faulty.
            guard version.minor >= 1 else { throw .badRequest("Transfer-Encoding in an HTTP/1.0 request") }
            // §6.3 item 3: both present is a smuggling attempt or an error; reject rather than guess.
            guard !hasCL else { throw .badRequest("both Transfer-Encoding and Content-Length") }
            let codings = fields.listMembers("Transfer-Encoding").map { member in
                (member.split(separator: ";", maxSplits: 1).first ?? "").trimmingOWS()
            }
            guard let last = codings.last else { throw .badRequest("empty Transfer-Encoding") }
            // §6.1: a transfer coding we do not implement → 501; chunked must come last (§6.3).
            guard asciiCaseInsensitiveEquals(last, "chunked") else {
                throw .notImplemented("Transfer-Encoding must end in chunked")
            }
            for coding in codings.dropLast() {
                if asciiCaseInsensitiveEquals(coding, "chunked") {
                    throw .badRequest("chunked applied more than once")  // §7.1
                }
                throw .notImplemented("unsupported transfer coding \(coding)")
            }
            return .chunked
        }
        if hasCL {
            // RFC 9110 §8.6: repeated identical values may be merged; anything else is invalid.
            var length: Int64?
            for member in fields.values("Content-Length").flatMap({ $0.split(separator: ",", omittingEmptySubsequences: false) }) {
                let digits = member.trimmingOWS()
                guard !digits.isEmpty, digits.utf8.allSatisfy(isDigit) else {
                    throw .badRequest("invalid Content-Length")
                }
                // All digits: a value too big for Int64 is a valid but impossible length.
                guard let n = Int64(digits) else { throw .contentTooLarge(limit: limits.maxBodyBytes) }
                if let length, length != n { throw .badRequest("conflicting Content-Length values") }
                length = n
            }
            guard let length else { throw .badRequest("invalid Content-Length") }
            if length > limits.maxBodyBytes { throw .contentTooLarge(limit: limits.maxBodyBytes) }
            return .fixed(length)
        }
        return .none
    }

    /// chunk-size [ chunk-ext ] (RFC 9112 §7.1, §7.1.1). Extensions are checked against the
    /// grammar and then ignored: none is defined that this server understands.
    static func parseChunkLine(_ bytes: [UInt8]) throws(HTTPError) -> Int64 {
        var i = 0
        var size: Int64 = 0
        var significant = 0
        while i < bytes.count, let digit = hexValue(bytes[i]) {
            if size > 0 || digit > 0 { significant += 1 }
            // 15 hex digits stay below 2^60; a larger chunk is larger than any body limit.
            if significant > 15 { throw .badRequest("chunk size too large") }
            size = size << 4 | Int64(digit)
            i += 1
        }
        guard i > 0 else { throw .badRequest("malformed chunk size") }

        func skipBWS() {
            while i < bytes.count, bytes[i] == .sp || bytes[i] == .htab { i += 1 }
        }
        func token() -> Bool {
            let start = i
            while i < bytes.count, bytes[i].isTokenChar { i += 1 }
            return i > start
        }
        while true {
            skipBWS()
            if i == bytes.count { return size }
            guard bytes[i] == UInt8(ascii: ";") else { throw .badRequest("malformed chunk extension") }
            i += 1
            skipBWS()
            guard token() else { throw .badRequest("malformed chunk extension name") }
            skipBWS()
            guard i < bytes.count, bytes[i] == UInt8(ascii: "=") else { continue }
            i += 1
            skipBWS()
            if i < bytes.count, bytes[i] == UInt8(ascii: "\"") {
                guard let end = quotedStringEnd(bytes, from: i) else {
                    throw .badRequest("malformed chunk extension value")
                }
                i = end
            } else {
                guard token() else { throw .badRequest("malformed chunk extension value") }
            }
        }
    }

    /// quoted-string (RFC 9110 §5.6.4) starting at the opening quote; the index after the closing one.
    static func quotedStringEnd(_ bytes: [UInt8], from start: Int) -> Int? {
        var i = start + 1
        while i < bytes.count {
            let b = bytes[i]
            switch b {
            case UInt8(ascii: "\""):
                return i + 1
            case UInt8(ascii: "\\"):
                guard i + 1 < bytes.count, bytes[i + 1].isFieldValueChar else { return nil }
                i += 2
            case _ where b.isFieldValueChar:
                i += 1
            default:
                return nil
            }
        }
        return nil
    }
}

@inline(__always) func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
@inline(__always) func isAlpha(_ b: UInt8) -> Bool { (b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A }
