extension HTTPRequestHead {
    /// Whether to answer with `Content-Encoding: gzip` (RFC 9110 §12.5.3): gzip must have a
    /// non-zero qvalue (named as `gzip`/`x-gzip` or through `*`) at least as high as
    /// identity's when identity is weighted explicitly (or through `*`); an identity left
    /// unnamed is the fallback, not a preference. Without Accept-Encoding the answer is no.
    public var acceptsGzip: Bool {
        guard headers.contains("Accept-Encoding") else { return false }
        var gzip: Double?, identity: Double?, wildcard: Double?
        for member in headers.listMembers("Accept-Encoding") {
            let parts = member.split(separator: ";").map { $0.trimmingOWS() }
            guard let coding = parts.first, !coding.isEmpty else { continue }
            var q = 1.0
            for parameter in parts.dropFirst() {
                let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingOWS() }
                guard pair.count == 2, asciiCaseInsensitiveEquals(pair[0], "q") else { continue }
                guard let value = Self.qvalue(pair[1]) else {
                    q = -1
                    break
                }
                q = value
            }
            guard q >= 0 else { continue }  // an unreadable weight: ignore the member
            if asciiCaseInsensitiveEquals(coding, "gzip") || asciiCaseInsensitiveEquals(coding, "x-gzip") {
                gzip = max(gzip ?? 0, q)
            } else if asciiCaseInsensitiveEquals(coding, "identity") {
                identity = q
            } else if coding == "*" {
                wildcard = q
            }
        }
        let gzipQ = gzip ?? wildcard ?? 0
        let identityQ = identity ?? wildcard ?? 0
        return gzipQ > 0 && gzipQ >= identityQ
    }

    /// qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ) (RFC 9110 §12.4.2).
    static func qvalue<S: StringProtocol>(_ text: S) -> Double? {
        let bytes = Array(text.utf8)
        guard let first = bytes.first, first == UInt8(ascii: "0") || first == UInt8(ascii: "1") else { return nil }
        if bytes.count == 1 { return first == UInt8(ascii: "1") ? 1 : 0 }
        guard bytes[1] == UInt8(ascii: "."), bytes.count <= 5, bytes[2...].allSatisfy(isDigit) else { return nil }
        let value = Double(String(decoding: bytes, as: UTF8.self)) ?? -1
        return (0...1).contains(value) ? value : nil
    }

    /// The single byte range asked for with `Range` (RFC 9110 §14.2), given the
    /// representation's size. Anything this server does not serve as one range — another unit,
    /// several ranges, bad syntax — is ignored, which the RFC allows, and the full content goes out.
    public func byteRange(size: Int64) -> ByteRangeSelection {
        guard method == .get, let value = headers["Range"], headers.values("Range").count == 1 else { return .full }
        return ByteRangeSelection.parse(value, size: size)
    }
}

public enum ByteRangeSelection: Sendable, Equatable {
    case full
    case partial(ClosedRange<Int64>)
    /// 416, with `Content-Range: bytes */size`.
    case unsatisfiable

    /// ranges-specifier = range-unit "=" range-set, with one range-spec (RFC 9110 §14.1.2).
    public static func parse(_ value: String, size: Int64) -> ByteRangeSelection {
        guard let equals = value.firstIndex(of: "=") else { return .full }
        let unit = value[..<equals].trimmingOWS()
        guard asciiCaseInsensitiveEquals(unit, "bytes") else { return .full }
        let set = value[value.index(after: equals)...]
        let specs = set.split(separator: ",", omittingEmptySubsequences: true).map { $0.trimmingOWS() }
        guard specs.count == 1, let spec = specs.first, let dash = spec.firstIndex(of: "-") else { return .full }
        let firstText = spec[..<dash], lastText = spec[spec.index(after: dash)...]
        func number(_ s: Substring) -> Int64? {
            guard !s.isEmpty, s.utf8.allSatisfy(isDigit) else { return nil }
            return Int64(s) ?? .max  // a position past any file is just "too far"
        }
        if firstText.isEmpty {
            // suffix-range: the last N bytes.
            guard let suffix = number(lastText) else { return .full }
            guard suffix > 0, size > 0 else { return .unsatisfiable }
            return .partial((size - min(suffix, size))...(size - 1))
        }
        guard let first = number(firstText) else { return .full }
        var last = size - 1
        if !lastText.isEmpty {
            guard let l = number(lastText) else { return .full }
            guard l >= first else { return .full }  // invalid int-range: ignore the field
            last = min(l, size - 1)
        }
        guard first < size else { return .unsatisfiable }
        return .partial(first...last)
    }
}
