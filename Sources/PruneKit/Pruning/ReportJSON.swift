import Foundation

/// How reports are written (`report.json`, `inspect --json`, `train`'s report): pretty-printed
/// with sorted keys, but an array of plain values (numbers, booleans, null) on one line. The
/// final front alone is thousands of objective vectors; one number per line made a 4-task
/// report 38,000 lines long.
public enum ReportJSON {
    public static func encode<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return compactingPlainArrays(try encoder.encode(value))
    }

    /// Objective values as a report gives them: 6 significant digits. More says nothing about
    /// a normalized loss or a stored fraction, and costs ~10 bytes a value across the front.
    public static func rounded(_ values: [Double]) -> [Double] { values.map { rounded($0) } }

    static func rounded(_ x: Double, digits: Int = 6) -> Double {
        guard x.isFinite, x != 0 else { return x }
        let shift = digits - 1 - Int(log10(abs(x)).rounded(.down))
        // Powers of ten up to 10^22 are exact doubles, so the one rounding is `rounded()`'s.
        guard abs(shift) <= 22 else { return x }
        let p = pow(10, Double(abs(shift)))
        return shift >= 0 ? (x * p).rounded() / p : (x / p).rounded() * p
    }

    /// Pretty-printed JSON with every array that holds no string, object or array on one line,
    /// `[1, 2, 3]`. Strings are copied as they are (a bracket in one is not an array).
    static func compactingPlainArrays(_ json: Data) -> Data {
        let bytes = [UInt8](json)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "\"") {
                let end = endOfString(bytes, from: i)
                out.append(contentsOf: bytes[i..<end])
                i = end
            } else if b == UInt8(ascii: "["), let close = closingOfPlainArray(bytes, from: i) {
                let items = bytes[(i + 1)..<close].split(separator: UInt8(ascii: ","))
                    .map { $0.filter { ![UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t")].contains($0) } }
                    .filter { !$0.isEmpty }
                out.append(UInt8(ascii: "["))
                for (k, item) in items.enumerated() {
                    if k > 0 { out.append(contentsOf: [UInt8(ascii: ","), UInt8(ascii: " ")]) }
                    out.append(contentsOf: item)
                }
                out.append(UInt8(ascii: "]"))
                i = close + 1
            } else {
                out.append(b)
                i += 1
            }
        }
        return Data(out)
    }

    /// Index just past the string that opens at `start` (a quote), escapes skipped.
    private static func endOfString(_ bytes: [UInt8], from start: Int) -> Int {
        var i = start + 1
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "\\") { i += 2; continue }
            if bytes[i] == UInt8(ascii: "\"") { return i + 1 }
            i += 1
        }
        return bytes.count
    }

    /// The `]` closing the array that opens at `start`, when nothing in it is a string, an
    /// object or an array; nil otherwise.
    private static func closingOfPlainArray(_ bytes: [UInt8], from start: Int) -> Int? {
        var i = start + 1
        while i < bytes.count {
            switch bytes[i] {
            case UInt8(ascii: "]"): return i
            case UInt8(ascii: "["), UInt8(ascii: "{"), UInt8(ascii: "\""): return nil
            default: i += 1
            }
        }
        return nil
    }
}
