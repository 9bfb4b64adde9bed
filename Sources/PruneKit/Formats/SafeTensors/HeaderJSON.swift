import Foundation

/// The JSON of a safetensors header (RFC 8259), parsed by hand rather than with
/// `JSONSerialization` so that errors carry byte offsets, object keys keep their order,
/// duplicate keys are caught, and integers are read exactly (a double cannot tell 2^53 + 1
/// from 2^53, nor an overflowing dimension from a large one).
indirect enum HeaderJSON: Equatable {
    case object([Member])
    case array([Located])
    case string(String)
    /// The number's literal text, as it appears in the header.
    case number(String)
    case bool(Bool)
    case null

    struct Located: Equatable {
        var value: HeaderJSON
        /// Offset of the value's first byte within the header.
        var offset: Int
    }

    struct Member: Equatable {
        var key: String
        var value: Located
    }

    struct SyntaxError: Error, Equatable {
        var offset: Int
        var reason: String
    }

    var kind: String {
        switch self {
        case .object: return "an object"
        case .array: return "an array"
        case .string: return "a string"
        case .number: return "a number"
        case .bool: return "a boolean"
        case .null: return "null"
        }
    }

    /// Parses one JSON value, allowing whitespace (the writer's space padding) around it.
    static func parse(_ bytes: UnsafeRawBufferPointer) throws(SyntaxError) -> Located {
        var parser = Parser(bytes: bytes)
        parser.skipWhitespace()
        let value = try parser.value(depth: 0)
        parser.skipWhitespace()
        guard parser.position == bytes.count else {
            throw SyntaxError(offset: parser.position, reason: "unexpected data after the top-level value")
        }
        return value
    }
}

private struct Parser {
    let bytes: UnsafeRawBufferPointer
    var position = 0
    /// Headers describe flat maps; deep nesting is only ever an attack on the stack.
    static let maxDepth = 64

    init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    var current: UInt8? { position < bytes.count ? bytes[position] : nil }

    mutating func skipWhitespace() {
        while let c = current, c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D { position += 1 }
    }

    func fail(_ reason: String, at offset: Int? = nil) -> HeaderJSON.SyntaxError {
        HeaderJSON.SyntaxError(offset: offset ?? position, reason: reason)
    }

    mutating func expect(_ c: UInt8, _ what: String) throws(HeaderJSON.SyntaxError) {
        guard current == c else { throw fail(current == nil ? "unexpected end of header, expected \(what)" : "expected \(what)") }
        position += 1
    }

    mutating func value(depth: Int) throws(HeaderJSON.SyntaxError) -> HeaderJSON.Located {
        let start = position
        guard depth < Parser.maxDepth else { throw fail("nested deeper than \(Parser.maxDepth) levels") }
        guard let c = current else { throw fail("unexpected end of header, expected a value") }
        switch c {
        case UInt8(ascii: "{"): return .init(value: try object(depth: depth), offset: start)
        case UInt8(ascii: "["): return .init(value: try array(depth: depth), offset: start)
        case UInt8(ascii: "\""): return .init(value: .string(try string()), offset: start)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .init(value: .number(try number()), offset: start)
        case UInt8(ascii: "t"): try literal("true"); return .init(value: .bool(true), offset: start)
        case UInt8(ascii: "f"): try literal("false"); return .init(value: .bool(false), offset: start)
        case UInt8(ascii: "n"): try literal("null"); return .init(value: .null, offset: start)
        default: throw fail("unexpected character \(printable(c)), expected a value")
        }
    }

    mutating func object(depth: Int) throws(HeaderJSON.SyntaxError) -> HeaderJSON {
        position += 1
        var members: [HeaderJSON.Member] = []
        skipWhitespace()
        if current == UInt8(ascii: "}") { position += 1; return .object(members) }
        while true {
            skipWhitespace()
            guard current == UInt8(ascii: "\"") else { throw fail("expected a string key") }
            let key = try string()
            skipWhitespace()
            try expect(UInt8(ascii: ":"), "':' after a key")
            skipWhitespace()
            members.append(.init(key: key, value: try value(depth: depth + 1)))
            skipWhitespace()
            if current == UInt8(ascii: ",") { position += 1; continue }
            try expect(UInt8(ascii: "}"), "',' or '}' in an object")
            return .object(members)
        }
    }

    mutating func array(depth: Int) throws(HeaderJSON.SyntaxError) -> HeaderJSON {
        position += 1
        var elements: [HeaderJSON.Located] = []
        skipWhitespace()
        if current == UInt8(ascii: "]") { position += 1; return .array(elements) }
        while true {
            skipWhitespace()
            elements.append(try value(depth: depth + 1))
            skipWhitespace()
            if current == UInt8(ascii: ",") { position += 1; continue }
            try expect(UInt8(ascii: "]"), "',' or ']' in an array")
            return .array(elements)
        }
    }

    mutating func literal(_ word: String) throws(HeaderJSON.SyntaxError) {
        for b in word.utf8 {
            guard current == b else { throw fail("invalid literal, expected '\(word)'") }
            position += 1
        }
    }

    /// RFC 8259 §6: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    mutating func number() throws(HeaderJSON.SyntaxError) -> String {
        let start = position
        if current == UInt8(ascii: "-") { position += 1 }
        guard let first = current, isDigit(first) else { throw fail("invalid number") }
        position += 1
        if first != UInt8(ascii: "0") { while let c = current, isDigit(c) { position += 1 } }
        if current == UInt8(ascii: ".") {
            position += 1
            guard let c = current, isDigit(c) else { throw fail("invalid number: no digits after '.'") }
            while let c = current, isDigit(c) { position += 1 }
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            position += 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { position += 1 }
            guard let c = current, isDigit(c) else { throw fail("invalid number: no digits in the exponent") }
            while let c = current, isDigit(c) { position += 1 }
        }
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
    }

    /// RFC 8259 §7; the text between escapes must be valid UTF-8.
    mutating func string() throws(HeaderJSON.SyntaxError) -> String {
        let start = position
        position += 1
        var utf8: [UInt8] = []
        while true {
            guard let c = current else { throw fail("unterminated string", at: start) }
            switch c {
            case UInt8(ascii: "\""):
                position += 1
                guard let s = String(bytes: utf8, encoding: .utf8) else { throw fail("string is not valid UTF-8", at: start) }
                return s
            case UInt8(ascii: "\\"):
                position += 1
                guard let e = current else { throw fail("unterminated string", at: start) }
                position += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(e)
                case UInt8(ascii: "b"): utf8.append(0x08)
                case UInt8(ascii: "f"): utf8.append(0x0C)
                case UInt8(ascii: "n"): utf8.append(0x0A)
                case UInt8(ascii: "r"): utf8.append(0x0D)
                case UInt8(ascii: "t"): utf8.append(0x09)
                case UInt8(ascii: "u"): utf8.append(contentsOf: try unicodeEscape())
                default: throw fail("invalid escape '\\\(printable(e))'", at: position - 2)
                }
            case 0..<0x20:
                throw fail("control character \(printable(c)) in a string")
            default:
                utf8.append(c)
                position += 1
            }
        }
    }

    /// After `\u`: four hex digits, and for a high surrogate the `\uXXXX` low half that must follow.
    mutating func unicodeEscape() throws(HeaderJSON.SyntaxError) -> [UInt8] {
        let escapeStart = position - 2
        var code = try hex4()
        if (0xD800..<0xDC00).contains(code) {
            guard current == UInt8(ascii: "\\"), position + 1 < bytes.count, bytes[position + 1] == UInt8(ascii: "u") else {
                throw fail("unpaired surrogate in a \\u escape", at: escapeStart)
            }
            position += 2
            let low = try hex4()
            guard (0xDC00..<0xE000).contains(low) else { throw fail("unpaired surrogate in a \\u escape", at: escapeStart) }
            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
        } else if (0xDC00..<0xE000).contains(code) {
            throw fail("unpaired surrogate in a \\u escape", at: escapeStart)
        }
        return Array(String(Character(Unicode.Scalar(code)!)).utf8)
    }

    mutating func hex4() throws(HeaderJSON.SyntaxError) -> UInt32 {
        var v: UInt32 = 0
        for _ in 0..<4 {
            guard let c = current, let d = hexValue(c) else { throw fail("invalid \\u escape: expected 4 hex digits") }
            v = v << 4 | d
            position += 1
        }
        return v
    }
}

private func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }

private func hexValue(_ c: UInt8) -> UInt32? {
    switch c {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(c - UInt8(ascii: "0"))
    case UInt8(ascii: "a")...UInt8(ascii: "f"): return UInt32(c - UInt8(ascii: "a") + 10)
    case UInt8(ascii: "A")...UInt8(ascii: "F"): return UInt32(c - UInt8(ascii: "A") + 10)
    default: return nil
    }
}

private func printable(_ c: UInt8) -> String {
    (0x21..<0x7F).contains(c) ? "'\(Character(Unicode.Scalar(c)))'" : String(format: "0x%02X", c)
}

extension HeaderJSON {
    /// Appends `s` as a JSON string literal: quotes, backslashes and control characters escaped,
    /// everything else as its UTF-8 bytes.
    static func appendString(_ s: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""): out.append(contentsOf: Array(#"\""#.utf8))
            case UInt8(ascii: "\\"): out.append(contentsOf: Array(#"\\"#.utf8))
            case 0x0A: out.append(contentsOf: Array(#"\n"#.utf8))
            case 0x0D: out.append(contentsOf: Array(#"\r"#.utf8))
            case 0x09: out.append(contentsOf: Array(#"\t"#.utf8))
            case 0..<0x20: out.append(contentsOf: Array(String(format: "\\u%04x", b).utf8))
            default: out.append(b)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
