import Foundation

/// The first key a JSON object gives twice at its top level, which `JSONDecoder` would take
/// quietly (one of the two values wins): `{"rate": 0.3, "rate": 0.5}` is a mistake to name,
/// not to guess at. Keys are compared decoded (`"r\u0061te"` is `rate`). Expects JSON that
/// has already parsed.
enum JSONDuplicateKeys {
    static func first(in json: Data) -> String? {
        let bytes = [UInt8](json)
        var depth = 0, i = 0
        var seen: Set<String> = []
        while i < bytes.count {
            switch bytes[i] {
            case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1; i += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1; i += 1
            case UInt8(ascii: "\""):
                let start = i
                i += 1
                while i < bytes.count && bytes[i] != UInt8(ascii: "\"") { i += bytes[i] == UInt8(ascii: "\\") ? 2 : 1 }
                i += 1
                guard depth == 1, isKey(bytes, after: i) else { continue }
                let key = decoded(Array(bytes[start..<min(i, bytes.count)]))
                if !seen.insert(key).inserted { return key }
            default: i += 1
            }
        }
        return nil
    }

    /// A string is a key when the next thing after it, past whitespace, is a colon.
    private static func isKey(_ bytes: [UInt8], after end: Int) -> Bool {
        var j = end
        while j < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[j]) { j += 1 }
        return j < bytes.count && bytes[j] == UInt8(ascii: ":")
    }

    private static func decoded(_ quoted: [UInt8]) -> String {
        (try? JSONDecoder().decode([String].self, from: Data([UInt8(ascii: "[")] + quoted + [UInt8(ascii: "]")])).first)
            ?? String(decoding: quoted, as: UTF8.self)
    }
}
