import CZlib
import Testing
@testable import HTTPServer

/// zlib inflate, written against zlib directly so it checks our deflate independently.
func gunzip(_ data: [UInt8]) throws -> [UInt8] {
    var stream = z_stream()
    // 15 + 16: expect the gzip wrapper, verify its CRC-32 and length.
    guard czlib_inflateInit2(&stream, 15 + 16) == Z_OK else { throw TestClientError(description: "inflateInit2") }
    defer { inflateEnd(&stream) }
    var output: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 1 << 16)
    let status: Int32 = data.withUnsafeBufferPointer { input in
        stream.next_in = input.baseAddress
        stream.avail_in = UInt32(input.count)
        while true {
            let (status, produced) = buffer.withUnsafeMutableBufferPointer { out in
                stream.next_out = out.baseAddress
                stream.avail_out = UInt32(out.count)
                let status = inflate(&stream, Z_NO_FLUSH)
                return (status, out.count - Int(stream.avail_out))
            }
            output += buffer[0..<produced]
            if status != Z_OK { return status }
        }
    }
    guard status == Z_STREAM_END else { throw TestClientError(description: "inflate: \(status)") }
    return output
}

@Suite struct GzipAndDigestTests {
    @Test func deflaterOutputInflatesToItsInput() throws {
        var rng = SystemRandomNumberGenerator()
        let text = Array(String(repeating: "the quick brown fox jumps over the lazy dog ", count: 3000).utf8)
        let noise = (0..<200_000).map { _ in UInt8.random(in: 0...255, using: &rng) }
        for input in [[], [42], text, noise, text + noise] {
            #expect(try gunzip(GzipDeflater.gzip(input)) == input)
        }
        // Streaming with every flush mode, in uneven pieces.
        let deflater = GzipDeflater()
        var compressed: [UInt8] = []
        var offset = 0
        for (i, size) in [1, 17, 4096, 70_000, 0, 123_456].enumerated() {
            let end = min(offset + size, text.count)
            compressed += deflater.compress(Array(text[offset..<end]), flush: i % 2 == 0 ? .sync : .none)
            offset = end
        }
        compressed += deflater.compress(Array(text[offset...]), flush: .finish)
        #expect(try gunzip(compressed) == text)
        #expect(compressed.count < text.count / 10)
    }

    @Test func sha256KnownVectors() {
        // FIPS 180-2 examples.
        #expect(SHA256.hex(SHA256.hash([])) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex(SHA256.hash(Array("abc".utf8))) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(
            SHA256.hex(SHA256.hash(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)))
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        let hasher = SHA256()
        let block = [UInt8](repeating: UInt8(ascii: "a"), count: 1000)
        for _ in 0..<1000 { hasher.update(block) }
        #expect(SHA256.hex(hasher.finalize()) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }
}

@Suite struct NegotiationTests {
    static let acceptEncoding: [(String?, Bool)] = [
        (nil, false),
        ("", false),
        ("gzip", true),
        ("GZIP", true),
        ("x-gzip", true),
        ("deflate, gzip;q=0.5", true),
        ("gzip;q=0", false),
        ("gzip; q=0.000", false),
        ("*", true),
        ("*;q=0", false),
        ("*;q=0, identity", false),
        ("br, *;q=0.1", true),
        ("gzip;q=0.5, identity;q=0.8", false),
        ("gzip;q=0.8, identity;q=0.8", true),
        ("identity;q=0, gzip;q=0.1", true),
        ("gzip;q=2", false),   // invalid weight: member ignored
        ("gzip;q=0.0001", false),
        ("identity", false),
        ("br", false),
    ]

    @Test(arguments: acceptEncoding)
    func acceptEncodingQValues(_ field: String?, gzip: Bool) {
        var headers: HTTPHeaders = ["Host": "t"]
        if let field { headers["Accept-Encoding"] = field }
        let head = HTTPRequestHead(method: .get, target: "/", headers: headers)
        #expect(head.acceptsGzip == gzip, "\(String(describing: field))")
    }

    static let ranges: [(String, ByteRangeSelection)] = [
        ("bytes=0-3", .partial(0...3)),
        ("bytes=2-", .partial(2...9)),
        ("bytes=-3", .partial(7...9)),
        ("bytes=-30", .partial(0...9)),
        ("bytes=5-100", .partial(5...9)),
        ("BYTES = 1-1", .partial(1...1)),
        ("bytes=10-", .unsatisfiable),
        ("bytes=10-20", .unsatisfiable),
        ("bytes=-0", .unsatisfiable),
        ("bytes=3-2", .full),
        ("bytes=0-1,4-5", .full),
        ("bytes=a-b", .full),
        ("items=0-1", .full),
        ("bytes=", .full),
        ("bytes=99999999999999999999999-", .unsatisfiable),
    ]

    @Test(arguments: ranges)
    func rangeParsing(_ field: String, expected: ByteRangeSelection) {
        #expect(ByteRangeSelection.parse(field, size: 10) == expected)
    }

    @Test func rangeOnlyForGET() {
        let head = HTTPRequestHead(method: .head, target: "/", headers: ["Host": "t", "Range": "bytes=0-1"])
        #expect(head.byteRange(size: 10) == .full)
        #expect(ByteRangeSelection.parse("bytes=0-", size: 0) == .unsatisfiable)
    }

    @Test func entityTagComparison() {
        let tag = "\"abc\""
        #expect(EntityTag.noneMatchHits("\"abc\"", current: [tag]))
        #expect(EntityTag.noneMatchHits("W/\"abc\"", current: [tag]))
        #expect(EntityTag.noneMatchHits("\"x\", \"abc\"", current: [tag]))
        #expect(EntityTag.noneMatchHits("*", current: [tag]))
        #expect(!EntityTag.noneMatchHits("\"abd\"", current: [tag]))
        #expect(!EntityTag.noneMatchHits("\"a,bc\"", current: [tag]))
        #expect(EntityTag.strongMatch("\"abc\"", current: tag))
        #expect(!EntityTag.strongMatch("W/\"abc\"", current: tag))
        #expect(EntityTag.gzipVariant(of: tag) == "\"abc-gzip\"")
    }

    @Test func headersAreCaseInsensitive() {
        var headers: HTTPHeaders = ["Content-Type": "a", "X-Multi": "1"]
        headers.add("x-multi", "2, 3")
        #expect(headers["content-type"] == "a")
        #expect(headers.values("X-MULTI") == ["1", "2, 3"])
        #expect(headers.listMembers("x-multi") == ["1", "2", "3"])
        headers["X-Multi"] = "only"
        #expect(headers.values("x-multi") == ["only"])
        headers["CONTENT-TYPE"] = nil
        #expect(!headers.contains("Content-Type"))
    }
}

/// Live-socket tests of the file helper and content coding.
@Suite struct FileResponseTests {
    static let content: [UInt8] = Array(String(repeating: "0123456789abcdef", count: 1000).utf8)

    func withFiles(_ body: (Int, [UInt8]) async throws -> Void) async throws {
        let path = temporaryFile(Self.content)
        let small = temporaryFile(Array("abc".utf8), name: "abc")
        defer {
            unlinkFile(path)
            unlinkFile(small)
        }
        try await withServer(handler: testRoutes(files: ["/file": path, "/abc": small])) { _, port in
            try await body(port, Self.content)
        }
    }

    @Test func etagIsTheSHA256OfTheContent() async throws {
        try await withFiles { port, _ in
            let client = try TestClient(port: port)
            try await client.send("GET /abc HTTP/1.1\r\nHost: t\r\n\r\n")
            let response = try await client.readResponse()
            #expect(response.text == "abc")
            let tag = "\"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\""
            #expect(response.headers["ETag"] == tag)

            try await client.send("GET /abc HTTP/1.1\r\nHost: t\r\nIf-None-Match: \"other\", \(tag)\r\n\r\n")
            let cached = try await client.readResponse()
            #expect(cached.status == 304)
            #expect(cached.body.isEmpty)
            #expect(cached.headers["ETag"] == tag)
            #expect(cached.headers["Content-Length"] == nil)

            try await client.send("GET /abc HTTP/1.1\r\nHost: t\r\nIf-Match: \"other\"\r\n\r\n")
            #expect(try await client.readResponse().status == 412)
            try await client.send("GET /missing HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try await client.readResponse().status == 404)
        }
    }

    @Test func singleRanges() async throws {
        try await withFiles { port, content in
            let client = try TestClient(port: port)
            try await client.send("GET /file HTTP/1.1\r\nHost: t\r\nRange: bytes=10-19\r\nAccept-Encoding: gzip\r\n\r\n")
            let partial = try await client.readResponse()
            #expect(partial.status == 206)
            #expect(partial.headers["Content-Range"] == "bytes 10-19/\(content.count)")
            #expect(partial.headers["Content-Encoding"] == nil)
            #expect(partial.body == Array(content[10...19]))

            try await client.send("GET /file HTTP/1.1\r\nHost: t\r\nRange: bytes=-5\r\n\r\n")
            #expect(try await client.readResponse().body == Array(content.suffix(5)))

            try await client.send("GET /file HTTP/1.1\r\nHost: t\r\nRange: bytes=\(content.count)-\r\n\r\n")
            let unsatisfiable = try await client.readResponse()
            #expect(unsatisfiable.status == 416)
            #expect(unsatisfiable.headers["Content-Range"] == "bytes */\(content.count)")

            // If-Range with a tag that no longer matches: the whole file instead.
            try await client.send("GET /file HTTP/1.1\r\nHost: t\r\nRange: bytes=0-0\r\nIf-Range: \"stale\"\r\n\r\n")
            let whole = try await client.readResponse()
            #expect(whole.status == 200)
            #expect(whole.body == content)
        }
    }

    @Test func gzipWhenAcceptedDecompressesToTheFile() async throws {
        try await withFiles { port, content in
            let client = try TestClient(port: port)
            try await client.send("GET /file HTTP/1.1\r\nHost: t\r\nAccept-Encoding: br;q=1, gzip;q=0.9\r\n\r\n")
            let response = try await client.readResponse()
            #expect(response.status == 200)
            #expect(response.headers["Content-Encoding"] == "gzip")
            #expect(response.headers["Transfer-Encoding"] == "chunked")
            #expect(response.headers["Vary"] == "Accept-Encoding")
            #expect(response.headers["ETag"]?.hasSuffix("-gzip\"") == true)
            #expect(response.body.count < content.count / 4)
            #expect(try gunzip(response.body) == content)

            try await client.send("GET /file HTTP/1.1\r\nHost: t\r\nAccept-Encoding: gzip;q=0\r\n\r\n")
            let identity = try await client.readResponse()
            #expect(identity.headers["Content-Encoding"] == nil)
            #expect(identity.headers["Content-Length"] == "\(content.count)")
            #expect(identity.body == content)

            try await client.send("GET /text-gzip HTTP/1.1\r\nHost: t\r\nAccept-Encoding: gzip\r\n\r\n")
            let bytes = try await client.readResponse()
            #expect(bytes.headers["Content-Encoding"] == "gzip")
            #expect(bytes.headers["Content-Length"] != nil)
            #expect(String(decoding: try gunzip(bytes.body), as: UTF8.self) == String(repeating: "compress me please ", count: 200))

            try await client.send("GET /stream?count=5 HTTP/1.1\r\nHost: t\r\nAccept-Encoding: gzip\r\n\r\n")
            let stream = try await client.readResponse()
            #expect(stream.headers["Content-Encoding"] == "gzip")
            #expect(String(decoding: try gunzip(stream.body), as: UTF8.self) == (0..<5).map { "data: \($0)\n\n" }.joined())
        }
    }

    @Test func streamedResponseIsChunked() async throws {
        try await withFiles { port, _ in
            let client = try TestClient(port: port)
            try await client.send("GET /stream?count=3 HTTP/1.1\r\nHost: t\r\n\r\n")
            let response = try await client.readResponse()
            #expect(response.headers["Transfer-Encoding"] == "chunked")
            #expect(response.text == "data: 0\n\ndata: 1\n\ndata: 2\n\n")
            try await client.send("HEAD /stream HTTP/1.1\r\nHost: t\r\n\r\n")
            let head = try await client.readResponse(head: true)
            #expect(head.status == 200)
            try await client.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try await client.readResponse().text == "hello")
        }
    }
}
