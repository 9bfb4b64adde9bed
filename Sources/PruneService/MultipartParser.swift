/// An incremental `multipart/form-data` parser (RFC 7578 over RFC 2046 §5.1.1): fed the body
/// in pieces of any size, it returns events as soon as they are certain, so that a part's
/// content can be streamed to disk while it arrives. A delimiter split across two pieces is
/// found: the last `delimiter.count - 1` bytes of a piece are held back until the next.
public struct MultipartParser {
    public enum Event: Equatable {
        case partBegin(name: String, filename: String?, contentType: String?)
        case partData([UInt8])
        case partEnd
        case end
    }

    public struct Failure: Error, Equatable, CustomStringConvertible {
        public var message: String
        public var description: String { "multipart body: \(message)" }
    }

    enum State { case preamble, afterDelimiter, headers, content, epilogue }

    private let delimiter: [UInt8]
    private var buffer: [UInt8]
    private var state = State.preamble
    private let maxHeaderBytes: Int

    public init(boundary: String, maxHeaderBytes: Int = 16 * 1024) {
        delimiter = Array("\r\n--\(boundary)".utf8)
        // The first delimiter has no CRLF before it; pretend it has.
        buffer = [13, 10]
        self.maxHeaderBytes = maxHeaderBytes
    }

    /// The boundary parameter of a `multipart/form-data` Content-Type, or nil.
    public static func boundary(contentType: String) -> String? {
        let parts = contentType.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.first?.lowercased() == "multipart/form-data" else { return nil }
        for p in parts.dropFirst() {
            let kv = p.split(separator: "=", maxSplits: 1)
            if kv.count == 2, kv[0].trimmingCharacters(in: .whitespaces).lowercased() == "boundary" {
                var v = kv[1].trimmingCharacters(in: .whitespaces)
                if v.hasPrefix("\""), v.hasSuffix("\""), v.count >= 2 { v = String(v.dropFirst().dropLast()) }
                return (1...70).contains(v.utf8.count) ? v : nil
            }
        }
        return nil
    }

    public var isFinished: Bool { state == .epilogue }

    public mutating func feed(_ bytes: some Collection<UInt8>) throws(Failure) -> [Event] {
        if state == .epilogue { return [] }
        buffer.append(contentsOf: bytes)
        var events: [Event] = []
        var i = 0
        loop: while true {
            switch state {
            case .preamble, .content:
                if let at = find(delimiter, in: buffer, from: i) {
                    if state == .content {
                        if at > i { events.append(.partData(Array(buffer[i..<at]))) }
                        events.append(.partEnd)
                    }
                    i = at + delimiter.count
                    state = .afterDelimiter
                } else {
                    // Keep what could be the start of a delimiter.
                    let safe = max(i, buffer.count - (delimiter.count - 1))
                    if state == .content && safe > i { events.append(.partData(Array(buffer[i..<safe]))) }
                    i = safe
                    break loop
                }
            case .afterDelimiter:
                // "--" closes the body; otherwise optional whitespace then CRLF opens a part.
                guard buffer.count - i >= 2 else { break loop }
                if buffer[i] == UInt8(ascii: "-") && buffer[i + 1] == UInt8(ascii: "-") {
                    state = .epilogue
                    events.append(.end)
                    i = buffer.count
                    break loop
                }
                var j = i
                while j < buffer.count, buffer[j] == 32 || buffer[j] == 9 { j += 1 }
                guard buffer.count - j >= 2 else { break loop }
                guard buffer[j] == 13, buffer[j + 1] == 10 else { throw Failure(message: "a delimiter is not followed by CRLF") }
                i = j + 2
                state = .headers
            case .headers:
                // No header lines at all: the part starts with its blank line.
                let end = buffer[i...].starts(with: [13, 10]) ? i - 2 : find([13, 10, 13, 10], in: buffer, from: i)
                guard let end else {
                    if buffer.count - i > maxHeaderBytes { throw Failure(message: "part headers longer than \(maxHeaderBytes) bytes") }
                    break loop
                }
                let text = String(decoding: buffer[i..<max(i, end)], as: UTF8.self)
                events.append(try Self.partBegin(headers: text))
                i = end + 4
                state = .content
            case .epilogue:
                break loop
            }
        }
        buffer.removeFirst(i)
        return events
    }

    /// Call when the body has ended: a body that stops before its closing delimiter is an error.
    public func finish() throws(Failure) {
        guard state == .epilogue else { throw Failure(message: "the body ended before the closing boundary") }
    }

    private static func partBegin(headers: String) throws(Failure) -> Event {
        var name: String?, filename: String?, contentType: String?
        for line in headers.split(separator: "\r\n", omittingEmptySubsequences: true) {
            guard let colon = line.firstIndex(of: ":") else { throw Failure(message: "malformed part header '\(line.prefix(80))'") }
            let field = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if field == "content-type" { contentType = value }
            guard field == "content-disposition" else { continue }
            for param in Self.parameters(value) {
                if param.key == "name" { name = param.value }
                if param.key == "filename" { filename = param.value }
            }
        }
        guard let name else { throw Failure(message: "a part has no Content-Disposition name") }
        return .partBegin(name: name, filename: filename, contentType: contentType)
    }

    /// `form-data; name="model"; filename="a;b.onnx"`: parameters, quoted strings honored.
    static func parameters(_ value: String) -> [(key: String, value: String)] {
        var out: [(String, String)] = []
        var chars = Substring(value)
        while let semi = chars.firstIndex(of: ";") {
            chars = chars[chars.index(after: semi)...]
            let trimmed = chars.drop { $0 == " " || $0 == "\t" }
            guard let eq = trimmed.firstIndex(of: "=") else { break }
            let key = trimmed[..<eq].trimmingCharacters(in: .whitespaces).lowercased()
            var rest = trimmed[trimmed.index(after: eq)...]
            var v = ""
            if rest.first == "\"" {
                rest = rest.dropFirst()
                var escaped = false
                var end = rest.endIndex
                for idx in rest.indices {
                    let c = rest[idx]
                    if escaped { v.append(c); escaped = false } else if c == "\\" { escaped = true } else if c == "\"" { end = idx; break } else { v.append(c) }
                }
                chars = end < rest.endIndex ? rest[rest.index(after: end)...] : rest[rest.endIndex...]
            } else {
                let stop = rest.firstIndex(of: ";") ?? rest.endIndex
                v = rest[..<stop].trimmingCharacters(in: .whitespaces)
                chars = rest[stop...]
            }
            out.append((key, v))
        }
        return out
    }

    private func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard needle.count <= haystack.count - start else { return nil }
        let first = needle[0]
        return haystack.withUnsafeBufferPointer { h in
            var i = start
            let last = h.count - needle.count
            while i <= last {
                guard let p = memchr(h.baseAddress! + i, Int32(first), last - i + 1) else { return nil }
                let at = h.baseAddress!.distance(to: p.assumingMemoryBound(to: UInt8.self))
                if memcmp(h.baseAddress! + at, needle, needle.count) == 0 { return at }
                i = at + 1
            }
            return nil
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Foundation
