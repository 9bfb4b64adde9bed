import Foundation

extension SafeTensorsFile {
    /// Reads a safetensors file held in memory. Each tensor gets a copy of its bytes, so the
    /// result does not keep `data` alive. Throws `SafeTensorsError`.
    public static func read(_ data: Data) throws -> SafeTensorsFile {
        try data.withUnsafeBytes { raw in
            let layout = try Layout(raw)
            return try layout.file { range in Data(UnsafeRawBufferPointer(rebasing: raw[range])) }
        }
    }

    /// Reads a safetensors file by mapping it into memory: tensor bytes are not copied but
    /// paged in from the file when used (a pipe or device is read into memory instead). Throws
    /// `SafeTensorsError`, or an error naming the path when the file cannot be opened.
    public static func read(contentsOf url: URL) throws -> SafeTensorsFile {
        try MappedFile.withFile(at: url, mapped: { file in
            let layout = try file.withContents { data in try data.withUnsafeBytes { try Layout($0) } }
            return try layout.file { file.bytes($0) }
        }, unmapped: read)
    }
}

/// What the header says, checked against the file: where each tensor's bytes are.
private struct Layout {
    struct Entry {
        var name: String
        var dtype: DType
        var shape: [Int]
        /// Absolute offsets in the file.
        var bytes: Range<Int>
        /// Where the entry is in the header (absolute), for errors.
        var headerOffset: Int
    }

    var entries: [Entry] = []
    var metadata: [String: String] = [:]

    init(_ raw: UnsafeRawBufferPointer) throws(SafeTensorsError) {
        guard raw.count >= 8 else { throw .fileTooShort(fileSize: raw.count) }
        let headerLength = UInt64(littleEndian: raw.loadUnaligned(as: UInt64.self))
        guard headerLength <= UInt64(SafeTensorsFile.maxHeaderLength) else {
            throw .headerTooLarge(headerLength: headerLength, limit: SafeTensorsFile.maxHeaderLength)
        }
        guard headerLength <= UInt64(raw.count - 8) else {
            throw .headerPastEnd(headerLength: headerLength, fileSize: raw.count)
        }
        let dataStart = 8 + Int(headerLength)
        let bufferSize = raw.count - dataStart

        let root: HeaderJSON.Located
        do {
            root = try HeaderJSON.parse(UnsafeRawBufferPointer(rebasing: raw[8..<dataStart]))
        } catch {
            throw .headerNotJSON(offset: 8 + error.offset, reason: error.reason)
        }
        guard case let .object(members) = root.value else {
            throw .headerNotObject(offset: 8 + root.offset, found: root.value.kind)
        }

        var seen = Set<String>()
        for member in members {
            let at = 8 + member.value.offset
            guard seen.insert(member.key).inserted else { throw .duplicateName(tensor: member.key, offset: at) }
            if member.key == "__metadata__" {
                metadata = try Layout.metadata(member.value)
            } else {
                entries.append(try Layout.entry(member.key, member.value, dataStart: dataStart, bufferSize: bufferSize))
            }
        }

        // Stable sort: equal ranges (empty tensors) keep header order.
        entries = entries.enumerated().sorted { a, b in
            (a.element.bytes.lowerBound, a.element.bytes.upperBound, a.offset)
                < (b.element.bytes.lowerBound, b.element.bytes.upperBound, b.offset)
        }.map(\.element)
        var end = dataStart
        var previous: String?
        for e in entries {
            if e.bytes.lowerBound > end {
                throw .gap(tensor: e.name, previous: previous, begin: end, length: e.bytes.lowerBound - end)
            }
            if e.bytes.lowerBound < end {
                throw .overlap(tensor: e.name, previous: previous ?? "", begin: e.bytes.lowerBound, previousEnd: end)
            }
            end = e.bytes.upperBound
            previous = e.name
        }
        if end != raw.count { throw .gap(tensor: nil, previous: previous, begin: end, length: raw.count - end) }
    }

    func file(_ bytes: (Range<Int>) -> Data) throws -> SafeTensorsFile {
        let tensors = try entries.map { e in
            do {
                return SafeTensorsFile.Entry(e.name, try Tensor(dtype: e.dtype, shape: e.shape, data: bytes(e.bytes)))
            } catch {
                // Unreachable: the size was checked against the shape in `entry`.
                throw SafeTensorsError.badShape(tensor: e.name, offset: e.headerOffset, reason: "\(error)")
            }
        }
        return SafeTensorsFile(tensors: tensors, metadata: metadata)
    }

    static func entry(_ name: String, _ json: HeaderJSON.Located, dataStart: Int, bufferSize: Int) throws(SafeTensorsError) -> Entry {
        let at = 8 + json.offset
        guard case let .object(fields) = json.value else {
            throw .entryNotObject(tensor: name, offset: at, found: json.value.kind)
        }
        func field(_ key: String) throws(SafeTensorsError) -> HeaderJSON.Located {
            guard let v = fields.first(where: { $0.key == key })?.value else {
                throw .missingKey(tensor: name, key: key, offset: at)
            }
            return v
        }

        let dtypeJSON = try field("dtype")
        guard case let .string(dtypeName) = dtypeJSON.value else {
            throw .unknownDType(tensor: name, dtype: "(\(dtypeJSON.value.kind))", offset: 8 + dtypeJSON.offset)
        }
        guard let dtype = DType(safetensorsName: dtypeName) else {
            throw .unknownDType(tensor: name, dtype: dtypeName, offset: 8 + dtypeJSON.offset)
        }

        let shapeJSON = try field("shape")
        guard case let .array(dims) = shapeJSON.value else {
            throw .badShape(tensor: name, offset: 8 + shapeJSON.offset, reason: "\(shapeJSON.value.kind), not an array")
        }
        var shape: [Int] = []
        for (i, d) in dims.enumerated() {
            switch nonNegativeInteger(d.value) {
            case let .success(v): shape.append(v)
            case let .failure(reason): throw .badShape(tensor: name, offset: 8 + d.offset, reason: "dimension \(i) \(reason)")
            }
        }
        guard let count = Tensor.elementCount(shape),
              case let (expected, overflow) = count.multipliedReportingOverflow(by: dtype.size), !overflow
        else {
            throw .badShape(tensor: name, offset: 8 + shapeJSON.offset, reason: "\(shape) has too many elements")
        }

        let offsetsJSON = try field("data_offsets")
        guard case let .array(pair) = offsetsJSON.value, pair.count == 2 else {
            throw .badDataOffsets(tensor: name, offset: 8 + offsetsJSON.offset, reason: "not an array of two integers")
        }
        var bounds: [Int] = []
        for (i, o) in pair.enumerated() {
            switch nonNegativeInteger(o.value) {
            case let .success(v): bounds.append(v)
            case let .failure(reason):
                throw .badDataOffsets(tensor: name, offset: 8 + o.offset, reason: "\(i == 0 ? "begin" : "end") \(reason)")
            }
        }
        let (begin, end) = (bounds[0], bounds[1])
        guard begin <= end else {
            throw .badDataOffsets(tensor: name, offset: 8 + offsetsJSON.offset, reason: "begin \(begin) is after end \(end)")
        }
        guard end <= bufferSize else {
            throw .dataPastEnd(tensor: name, end: end, bufferSize: bufferSize, offset: 8 + offsetsJSON.offset)
        }
        guard end - begin == expected else {
            throw .sizeMismatch(tensor: name, dtype: dtype, shape: shape, expected: expected, actual: end - begin,
                                offset: 8 + offsetsJSON.offset)
        }
        return Entry(name: name, dtype: dtype, shape: shape, bytes: (dataStart + begin)..<(dataStart + end), headerOffset: at)
    }

    static func metadata(_ json: HeaderJSON.Located) throws(SafeTensorsError) -> [String: String] {
        guard case let .object(members) = json.value else {
            throw .badMetadata(offset: 8 + json.offset, reason: "\(json.value.kind), not an object of strings")
        }
        var map: [String: String] = [:]
        for m in members {
            guard case let .string(s) = m.value.value else {
                throw .badMetadata(offset: 8 + m.value.offset, reason: "value of \"\(m.key)\" is \(m.value.value.kind), not a string")
            }
            guard map.updateValue(s, forKey: m.key) == nil else {
                throw .badMetadata(offset: 8 + m.value.offset, reason: "key \"\(m.key)\" appears more than once")
            }
        }
        return map
    }

    /// A JSON number that is a plain non-negative integer fitting in Int; otherwise why not.
    static func nonNegativeInteger(_ json: HeaderJSON) -> Result<Int, Reason> {
        guard case let .number(text) = json else { return .failure(Reason("is \(json.kind), not an integer")) }
        if text.hasPrefix("-") { return .failure(Reason("is negative (\(text))")) }
        guard text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
            return .failure(Reason("is not an integer (\(text))"))
        }
        guard let v = Int(text) else { return .failure(Reason("overflows (\(text))")) }
        return .success(v)
    }

    struct Reason: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }
}
