/// An ordered list of header fields with case-insensitive name lookup (RFC 9110 §5.1).
///
/// Order and repetition are kept as received: some fields (Set-Cookie) must not be merged,
/// and framing checks (RFC 9112 §6.3) need to see every Content-Length line.
public struct HTTPHeaders: Sendable, Equatable, Sequence, ExpressibleByDictionaryLiteral {
    public struct Field: Sendable, Equatable {
        public var name: String
        public var value: String

        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    public private(set) var fields: [Field]

    public init() { fields = [] }

    public init(_ pairs: [(String, String)]) {
        fields = pairs.map { Field(name: $0.0, value: $0.1) }
    }

    public init(dictionaryLiteral elements: (String, String)...) {
        self.init(elements)
    }

    public var count: Int { fields.count }
    public var isEmpty: Bool { fields.isEmpty }

    public func makeIterator() -> IndexingIterator<[Field]> { fields.makeIterator() }

    /// The first value of `name`; setting replaces every line of that name (nil removes them).
    public subscript(name: String) -> String? {
        get { fields.first { asciiCaseInsensitiveEquals($0.name, name) }?.value }
        set {
            guard let newValue else {
                remove(name)
                return
            }
            if let i = fields.firstIndex(where: { asciiCaseInsensitiveEquals($0.name, name) }) {
                fields[i].value = newValue
                var j = fields.count - 1
                while j > i {
                    if asciiCaseInsensitiveEquals(fields[j].name, name) { fields.remove(at: j) }
                    j -= 1
                }
            } else {
                fields.append(Field(name: name, value: newValue))
            }
        }
    }

    /// Every value of `name`, one per field line, in order.
    public func values(_ name: String) -> [String] {
        fields.compactMap { asciiCaseInsensitiveEquals($0.name, name) ? $0.value : nil }
    }

    public func contains(_ name: String) -> Bool {
        fields.contains { asciiCaseInsensitiveEquals($0.name, name) }
    }

    public mutating func add(_ name: String, _ value: String) {
        fields.append(Field(name: name, value: value))
    }

    public mutating func remove(_ name: String) {
        fields.removeAll { asciiCaseInsensitiveEquals($0.name, name) }
    }

    /// The members of a list-valued field (RFC 9110 §5.6.1), across all its lines, trimmed,
    /// empty members dropped.
    public func listMembers(_ name: String) -> [Substring] {
        var members: [Substring] = []
        for value in values(name) {
            for member in value.split(separator: ",", omittingEmptySubsequences: true) {
                let trimmed = member.trimmingOWS()
                if !trimmed.isEmpty { members.append(trimmed) }
            }
        }
        return members
    }

    /// Whether a list-valued field such as Connection holds `token` (compared case-insensitively).
    public func containsToken(_ token: String, in name: String) -> Bool {
        guard contains(name) else { return false }
        return listMembers(name).contains { asciiCaseInsensitiveEquals($0, token) }
    }
}

extension HTTPHeaders: CustomStringConvertible {
    public var description: String {
        fields.map { "\($0.name): \($0.value)" }.joined(separator: "\n")
    }
}

/// Field names and most tokens are ASCII and case-insensitive (RFC 9110 §5.1, §5.6.2).
@inlinable
func asciiCaseInsensitiveEquals<A: StringProtocol, B: StringProtocol>(_ a: A, _ b: B) -> Bool {
    let x = a.utf8, y = b.utf8
    guard x.count == y.count else { return false }
    for (p, q) in zip(x, y) where p != q {
        guard asciiLower(p) == asciiLower(q) else { return false }
    }
    return true
}

@inlinable
func asciiLower(_ byte: UInt8) -> UInt8 {
    byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
}

extension StringProtocol {
    /// Drops optional whitespace, SP and HTAB (RFC 9110 §5.6.3), from both ends.
    func trimmingOWS() -> SubSequence {
        var start = startIndex, end = endIndex
        while start < end, self[start] == " " || self[start] == "\t" { start = index(after: start) }
        while end > start {
            let before = index(before: end)
            guard self[before] == " " || self[before] == "\t" else { break }
            end = before
        }
        return self[start..<end]
    }
}
