import Foundation
import Testing
@testable import PruneKit

/// A safetensors file assembled by hand: length prefix (the header's own unless given), header, buffer.
private func handMade(_ header: String, buffer: [UInt8] = [], headerLength: UInt64? = nil) -> Data {
    var d = Data()
    withUnsafeBytes(of: (headerLength ?? UInt64(header.utf8.count)).littleEndian) { d.append(contentsOf: $0) }
    d.append(contentsOf: Array(header.utf8))
    d.append(contentsOf: buffer)
    return d
}

/// Absolute file offset of the first (or last) `needle` in `header` (the header starts at byte 8).
private func at(_ needle: String, in header: String, last: Bool = false) -> Int {
    let h = Array(header.utf8), n = Array(needle.utf8)
    let starts = (0...(h.count - n.count)).filter { Array(h[$0..<($0 + n.count)]) == n }
    return 8 + (last ? starts.last! : starts.first!)
}

extension SafeTensorsError {
    /// The tensor and byte offset the error is about, which its message must name.
    var located: (tensor: String?, offset: Int?) {
        switch self {
        case .fileTooShort: return (nil, 0)
        case .headerTooLarge, .headerPastEnd: return (nil, 0)
        case let .headerNotJSON(offset, _), let .headerNotObject(offset, _), let .badMetadata(offset, _): return (nil, offset)
        case let .duplicateName(t, o), let .entryNotObject(t, o, _), let .missingKey(t, _, o), let .unknownDType(t, _, o),
             let .badShape(t, o, _), let .badDataOffsets(t, o, _), let .dataPastEnd(t, _, _, o),
             let .sizeMismatch(t, _, _, _, _, o):
            return (t, o)
        case let .gap(t, previous, begin, _): return (t ?? previous, begin)
        case let .overlap(t, _, begin, _): return (t, begin)
        case let .inconsistentTensor(t, _), let .badName(t, _): return (t, nil)
        }
    }
}

private func sample(_ dtype: DType, shape: [Int] = [2, 3]) -> Tensor {
    let count = shape.reduce(1, *)
    let values = (0..<count).map { i -> Float in
        switch dtype {
        case .bool: return Float(i % 2)
        case .u8: return Float(i * 40)
        default: return Float(i) - 2.5
        }
    }
    return Tensor(shape: shape, floats: values, dtype: dtype)
}

@Suite struct SafeTensorsTests {
    @Test(arguments: DType.allCases)
    func everyDTypeRoundTrips(dtype: DType) throws {
        let file = SafeTensorsFile(tensors: [.init("t", sample(dtype)), .init("scalar", sample(dtype, shape: []))])
        let read = try SafeTensorsFile.read(try file.serialized())
        #expect(read == file)
        #expect(read["t"]?.dtype == dtype)
    }

    @Test func writesTheSpecLayout() throws {
        let t = Tensor(shape: [2], floats: [1, 2])
        let bytes = try SafeTensorsFile(tensors: [.init("a", t)], metadata: ["format": "pt"]).serialized()
        let json = #"{"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
        let padded = json + String(repeating: " ", count: (8 - json.utf8.count % 8) % 8)
        #expect(bytes == handMade(padded, buffer: Array(t.data)))
        #expect((8 + padded.utf8.count) % 8 == 0)
    }

    @Test func rewriteIsByteIdenticalAndKeepsOrderAndMetadata() throws {
        let file = SafeTensorsFile(
            tensors: [.init("z.weight", sample(.f32)), .init("a.bias", sample(.bf16, shape: [3])),
                      .init("empty", sample(.f16, shape: [0, 4])), .init("ids", sample(.i64, shape: [5]))],
            metadata: ["format": "pt", "note": "quote \" backslash \\ newline \n ü"])
        let bytes = try file.serialized()
        let read = try SafeTensorsFile.read(bytes)
        #expect(read == file)
        #expect(read.tensors.map(\.name) == ["z.weight", "a.bias", "empty", "ids"])
        #expect(try read.serialized() == bytes)
    }

    @Test func emptyFileRoundTrips() throws {
        let bytes = try SafeTensorsFile().serialized()
        #expect(bytes.count == 16)
        #expect(try SafeTensorsFile.read(bytes) == SafeTensorsFile())
    }

    @Test func readsTensorsInDataOrderWhateverTheHeaderOrder() throws {
        // Keys out of order, extra whitespace, metadata in the middle, escapes in names.
        let header = """
             { "b" : {"data_offsets":[4, 8], "shape":[1], "dtype":"I32"},
               "__metadata__": {"k": "v"},
               "a\\u00e9" : {"dtype":"U8","shape":[2,2],"data_offsets":[0,4]} }
            """
        let file = try SafeTensorsFile.read(handMade(header, buffer: [1, 2, 3, 4, 7, 0, 0, 0]))
        #expect(file.tensors.map(\.name) == ["aé", "b"])
        #expect(file["aé"]?.shape == [2, 2])
        #expect(file["b"]?.int64s() == [7])
        #expect(file.metadata == ["k": "v"])
    }

    @Test func readsFromASliceOfLargerData() throws {
        let bytes = try SafeTensorsFile(tensors: [.init("x", sample(.f64))]).serialized()
        let slice = (Data([9, 9, 9]) + bytes)[3...]
        #expect(try SafeTensorsFile.read(slice)["x"] == sample(.f64))
    }

    @Test func memoryMappedReadIsEqualAndTensorsStayWritable() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("pruned-st-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        let file = SafeTensorsFile(tensors: [.init("w", sample(.f32, shape: [64, 64])), .init("b", sample(.i8, shape: [3]))],
                                   metadata: ["a": "b"])
        try file.write(to: url)

        var tensor = try #require(try SafeTensorsFile.read(contentsOf: url)["w"])
        #expect(tensor == file["w"])
        // The mapping is private: writing in place (the file's other Data are gone, so this
        // is the only reference) must neither fault nor change the file.
        tensor.data.withUnsafeMutableBytes { $0.storeBytes(of: 42, toByteOffset: 0, as: Float.self) }
        #expect(tensor.floats()[0] == 42)
        #expect(try SafeTensorsFile.read(Data(contentsOf: url)) == file)
    }

    @Test func emptyFilesAndDevicesAreReadToo() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("pruned-st-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try Data().write(to: url)
        // An empty regular file (nothing to map), and a device (read, not mapped).
        for file in [url, URL(fileURLWithPath: "/dev/null")] {
            #expect(throws: SafeTensorsError.fileTooShort(fileSize: 0)) { try SafeTensorsFile.read(contentsOf: file) }
        }
        #expect(throws: ONNXError.notAModel(reason: "the file is empty")) { try ONNXFile.read(contentsOf: URL(fileURLWithPath: "/dev/null")) }
    }

    @Test func missingFileNamesThePath() {
        let path = "/nonexistent-\(UUID().uuidString).safetensors"
        let error = #expect(throws: (any Error).self) { try SafeTensorsFile.read(contentsOf: URL(fileURLWithPath: path)) }
        #expect(error.map { "\($0)" }?.contains(path) == true)
    }

    // MARK: - Bad files

    struct Bad: CustomTestStringConvertible, Sendable {
        var name: String
        var file: Data
        var error: SafeTensorsError
        /// Text the message must contain besides the tensor's name and the offset.
        var mentions: [String]
        var testDescription: String { name }
    }

    static let bad: [Bad] = {
        var cases: [Bad] = []
        func add(_ name: String, _ header: String, buffer: [UInt8] = [], _ error: (String) -> SafeTensorsError, _ mentions: [String]) {
            cases.append(Bad(name: name, file: handMade(header, buffer: buffer), error: error(header), mentions: mentions))
        }
        let eight = [UInt8](repeating: 0, count: 8)

        cases.append(Bad(name: "shorter than the length prefix", file: Data([1, 2, 3]),
                         error: .fileTooShort(fileSize: 3), mentions: ["3 bytes", "offset 0"]))
        cases.append(Bad(name: "header over 100 MB", file: handMade("{}", headerLength: 100_000_001),
                         error: .headerTooLarge(headerLength: 100_000_001, limit: 100_000_000), mentions: ["100000001"]))
        cases.append(Bad(name: "header past the end", file: handMade("{}", headerLength: 40),
                         error: .headerPastEnd(headerLength: 40, fileSize: 10), mentions: ["40", "10-byte file"]))
        cases.append(Bad(name: "header length near UInt64.max", file: handMade("{}", headerLength: .max),
                         error: .headerTooLarge(headerLength: .max, limit: 100_000_000), mentions: ["\(UInt64.max)"]))

        add("not JSON", #"{"w": {"dtype": "F32",}"#, { .headerNotJSON(offset: at(",}", in: $0) + 1, reason: "expected a string key") }, [])
        add("truncated JSON", #"{"w": "#, { _ in .headerNotJSON(offset: 14, reason: "unexpected end of header, expected a value") }, [])
        add("control character in a name", "{\"w\u{1}\": 1}", { _ in .headerNotJSON(offset: 11, reason: "control character 0x01 in a string") }, [])
        add("not an object", "[1, 2]", { _ in .headerNotObject(offset: 8, found: "an array") }, ["array"])
        add("entry not an object", #"{"w": [1]}"#, { .entryNotObject(tensor: "w", offset: at("[1]", in: $0), found: "an array") }, [])
        add("missing dtype", #"{"w": {"shape": [], "data_offsets": [0, 0]}}"#,
            { .missingKey(tensor: "w", key: "dtype", offset: at("{\"shape", in: $0)) }, ["dtype"])
        add("missing shape", #"{"w": {"dtype": "F32", "data_offsets": [0, 0]}}"#,
            { .missingKey(tensor: "w", key: "shape", offset: at("{\"dtype", in: $0)) }, ["shape"])
        add("missing data_offsets", #"{"w": {"dtype": "F32", "shape": []}}"#,
            { .missingKey(tensor: "w", key: "data_offsets", offset: at("{\"dtype", in: $0)) }, ["data_offsets"])
        add("unknown dtype", #"{"w": {"dtype": "U16", "shape": [1], "data_offsets": [0, 2]}}"#, buffer: [0, 0],
            { .unknownDType(tensor: "w", dtype: "U16", offset: at("\"U16", in: $0)) }, ["U16"])
        add("dtype not a string", #"{"w": {"dtype": 4, "shape": [1], "data_offsets": [0, 4]}}"#,
            { .unknownDType(tensor: "w", dtype: "(a number)", offset: at("4,", in: $0)) }, ["'w'"])
        add("negative dim", #"{"w": {"dtype": "F32", "shape": [2, -1], "data_offsets": [0, 0]}}"#,
            { .badShape(tensor: "w", offset: at("-1", in: $0), reason: "dimension 1 is negative (-1)") }, ["negative"])
        add("fractional dim", #"{"w": {"dtype": "F32", "shape": [1.5], "data_offsets": [0, 4]}}"#,
            { .badShape(tensor: "w", offset: at("1.5", in: $0), reason: "dimension 0 is not an integer (1.5)") }, ["1.5"])
        add("exponent dim", #"{"w": {"dtype": "F32", "shape": [1e2], "data_offsets": [0, 400]}}"#,
            { .badShape(tensor: "w", offset: at("1e2", in: $0), reason: "dimension 0 is not an integer (1e2)") }, ["'w'"])
        add("string dim", #"{"w": {"dtype": "F32", "shape": ["2"], "data_offsets": [0, 8]}}"#,
            { .badShape(tensor: "w", offset: at("\"2\"", in: $0), reason: "dimension 0 is a string, not an integer") }, ["'w'"])
        add("overflowing dim", #"{"w": {"dtype": "F32", "shape": [99999999999999999999], "data_offsets": [0, 4]}}"#,
            { .badShape(tensor: "w", offset: at("999", in: $0), reason: "dimension 0 overflows (99999999999999999999)") }, ["overflows"])
        add("overflowing element count", #"{"w": {"dtype": "F32", "shape": [4294967296, 4294967296], "data_offsets": [0, 4]}}"#,
            { .badShape(tensor: "w", offset: at("[4294967296", in: $0), reason: "[4294967296, 4294967296] has too many elements") }, ["'w'"])
        add("overflowing byte count", #"{"w": {"dtype": "F64", "shape": [4611686018427387904], "data_offsets": [0, 8]}}"#,
            { .badShape(tensor: "w", offset: at("[46", in: $0), reason: "[4611686018427387904] has too many elements") }, ["'w'"])
        add("shape not an array", #"{"w": {"dtype": "F32", "shape": 3, "data_offsets": [0, 4]}}"#,
            { .badShape(tensor: "w", offset: at("3,", in: $0), reason: "a number, not an array") }, ["'w'"])
        add("one data offset", #"{"w": {"dtype": "F32", "shape": [], "data_offsets": [4]}}"#, buffer: [0, 0, 0, 0],
            { .badDataOffsets(tensor: "w", offset: at("[4]", in: $0), reason: "not an array of two integers") }, ["two"])
        add("three data offsets", #"{"w": {"dtype": "F32", "shape": [], "data_offsets": [0, 4, 8]}}"#, buffer: [0, 0, 0, 0],
            { .badDataOffsets(tensor: "w", offset: at("[0, 4, 8]", in: $0), reason: "not an array of two integers") }, ["'w'"])
        add("negative data offset", #"{"w": {"dtype": "F32", "shape": [], "data_offsets": [-4, 0]}}"#,
            { .badDataOffsets(tensor: "w", offset: at("-4", in: $0), reason: "begin is negative (-4)") }, ["negative"])
        add("fractional data offset", #"{"w": {"dtype": "F32", "shape": [], "data_offsets": [0, 4.0]}}"#, buffer: [0, 0, 0, 0],
            { .badDataOffsets(tensor: "w", offset: at("4.0", in: $0), reason: "end is not an integer (4.0)") }, ["'w'"])
        add("overflowing data offset", #"{"w": {"dtype": "F32", "shape": [], "data_offsets": [0, 18446744073709551616]}}"#,
            { .badDataOffsets(tensor: "w", offset: at("1844", in: $0), reason: "end overflows (18446744073709551616)") }, ["'w'"])
        add("begin after end", #"{"w": {"dtype": "F32", "shape": [], "data_offsets": [8, 4]}}"#, buffer: eight,
            { .badDataOffsets(tensor: "w", offset: at("[8, 4]", in: $0), reason: "begin 8 is after end 4") }, ["begin 8"])
        add("end past the buffer", #"{"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}"#, buffer: eight,
            { .dataPastEnd(tensor: "w", end: 16, bufferSize: 8, offset: at("[0, 16]", in: $0)) }, ["16", "8-byte"])
        add("size does not match shape", #"{"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}"#, buffer: eight,
            { .sizeMismatch(tensor: "w", dtype: .f32, shape: [3], expected: 12, actual: 8, offset: at("[0, 8]", in: $0)) },
            ["12 bytes", "span 8"])
        add("gap at the start", #"{"w": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}"#, buffer: eight,
            { .gap(tensor: "w", previous: nil, begin: 8 + $0.utf8.count, length: 4) }, ["4 bytes"])
        add("gap between tensors",
            #"{"a": {"dtype": "U8", "shape": [2], "data_offsets": [0, 2]}, "b": {"dtype": "U8", "shape": [2], "data_offsets": [4, 6]}}"#,
            buffer: [0, 0, 0, 0, 0, 0],
            { .gap(tensor: "b", previous: "a", begin: 8 + $0.utf8.count + 2, length: 2) }, ["'a'", "2 bytes"])
        add("overlapping tensors",
            #"{"a": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]}, "b": {"dtype": "U8", "shape": [2], "data_offsets": [2, 4]}}"#,
            buffer: [0, 0, 0, 0],
            { .overlap(tensor: "b", previous: "a", begin: 8 + $0.utf8.count + 2, previousEnd: 8 + $0.utf8.count + 4) }, ["'a'", "overlapping"])
        add("same range twice",
            #"{"a": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]}, "b": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]}}"#,
            buffer: [0, 0, 0, 0],
            { .overlap(tensor: "b", previous: "a", begin: 8 + $0.utf8.count, previousEnd: 8 + $0.utf8.count + 4) }, ["'a'"])
        add("trailing bytes", #"{"a": {"dtype": "U8", "shape": [2], "data_offsets": [0, 2]}}"#, buffer: [0, 0, 0],
            { .gap(tensor: nil, previous: "a", begin: 8 + $0.utf8.count + 2, length: 1) }, ["end of the file"])
        add("data but no tensors", "{}", buffer: [1],
            { _ in .gap(tensor: nil, previous: nil, begin: 10, length: 1) }, [])
        add("duplicate name",
            #"{"a": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]}, "a": {"dtype": "U8", "shape": [1], "data_offsets": [1, 2]}}"#,
            buffer: [0, 0], { .duplicateName(tensor: "a", offset: at("{\"dtype", in: $0, last: true)) }, ["more than once"])
        add("metadata not an object", #"{"__metadata__": ["a"]}"#,
            { .badMetadata(offset: at("[", in: $0), reason: "an array, not an object of strings") }, ["__metadata__"])
        add("metadata value not a string", #"{"__metadata__": {"epochs": 3}}"#,
            { .badMetadata(offset: at("3", in: $0), reason: "value of \"epochs\" is a number, not a string") }, ["epochs"])
        return cases
    }()

    @Test(arguments: bad)
    func badFileIsRefusedWithTheRightError(_ bad: Bad) {
        let error = #expect(throws: SafeTensorsError.self) { try SafeTensorsFile.read(bad.file) }
        guard let error else { return }
        #expect(error == bad.error)
        let message = "\(error)"
        let (tensor, offset) = error.located
        if let tensor { #expect(message.contains("'\(tensor)'"), "\(message) should name the tensor") }
        if let offset { #expect(message.contains(offset == 0 ? "offset 0" : "byte \(offset)"), "\(message) should give the offset") }
        for m in bad.mentions { #expect(message.contains(m), "\(message) should mention \(m)") }
    }

    @Test func invalidUTF8InANameIsRefused() {
        var header = Array(#"{"w": 1}"#.utf8)
        header[2] = 0xFF
        var file = Data()
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { file.append(contentsOf: $0) }
        file.append(contentsOf: header)
        #expect(throws: SafeTensorsError.headerNotJSON(offset: 9, reason: "string is not valid UTF-8")) {
            try SafeTensorsFile.read(file)
        }
    }

    @Test func deepNestingIsRefusedWithoutRecursingFurther() {
        let header = #"{"__metadata__": "# + String(repeating: "[", count: 10_000)
        #expect(throws: SafeTensorsError.headerNotJSON(offset: 8 + 17 + 63, reason: "nested deeper than 64 levels")) {
            try SafeTensorsFile.read(handMade(header))
        }
    }

    @Test func writerRefusesReservedDuplicateAndInconsistentTensors() throws {
        let t = sample(.f32)
        #expect(throws: SafeTensorsError.badName(tensor: "__metadata__", reason: "the name is reserved for the metadata map")) {
            try SafeTensorsFile(tensors: [.init("__metadata__", t)]).serialized()
        }
        #expect(throws: SafeTensorsError.badName(tensor: "w", reason: "the name is used by more than one tensor")) {
            try SafeTensorsFile(tensors: [.init("w", t), .init("w", t)]).serialized()
        }
        var broken = t
        broken.shape = [4, 3]
        #expect(throws: SafeTensorsError.inconsistentTensor(tensor: "w", reason: "dtype F32 and shape [4, 3] do not match its 24 bytes")) {
            try SafeTensorsFile(tensors: [.init("w", broken)]).serialized()
        }
    }
}
