import Foundation
import Testing
@testable import PruneService

@Suite struct MultipartParserTests {
    static let body = Array((
        "preamble to ignore\r\n"
        + "--XyZ\r\n"
        + "Content-Disposition: form-data; name=\"config\"\r\n\r\n"
        + "{\"rate\":0.3}\r\n"
        + "--XyZ\r\n"
        + "Content-Disposition: form-data; name=\"model\"; filename=\"a;b.onnx\"\r\n"
        + "Content-Type: application/octet-stream\r\n\r\n"
        + "\r\n--XyY-not-yet\r\n--Xy binary \u{0}\u{1}\r\n"
        + "\r\n--XyZ--\r\n"
        + "epilogue"
    ).utf8)

    /// Collapses events into (part name, content) pairs.
    static func parts(_ events: [MultipartParser.Event]) -> [(String, String)] {
        var out: [(String, String)] = []
        var name = "", content: [UInt8] = []
        for e in events {
            switch e {
            case let .partBegin(n, _, _): name = n; content = []
            case let .partData(d): content += d
            case .partEnd: out.append((name, String(decoding: content, as: UTF8.self)))
            case .end: break
            }
        }
        return out
    }

    @Test func parsesPartsWithLookAlikeDelimitersInside() throws {
        var p = MultipartParser(boundary: "XyZ")
        let events = try p.feed(Self.body)
        try p.finish()
        let parts = Self.parts(events)
        #expect(parts.map(\.0) == ["config", "model"])
        #expect(parts[0].1 == "{\"rate\":0.3}")
        #expect(parts[1].1 == "\r\n--XyY-not-yet\r\n--Xy binary \u{0}\u{1}\r\n")
        #expect(events.contains(.partBegin(name: "model", filename: "a;b.onnx", contentType: "application/octet-stream")))
        #expect(events.last == .end)
    }

    @Test func everySplitPointGivesTheSameParts() throws {
        var whole = MultipartParser(boundary: "XyZ")
        let expected = Self.parts(try whole.feed(Self.body))
        for cut in 0...Self.body.count {
            for second in [cut, min(Self.body.count, cut + 3)] {
                var p = MultipartParser(boundary: "XyZ")
                var events = try p.feed(Self.body[..<cut])
                events += try p.feed(Self.body[cut..<second])
                events += try p.feed(Self.body[second...])
                try p.finish()
                let got = Self.parts(events)
                #expect(got.map(\.0) == expected.map(\.0) && got.map(\.1) == expected.map(\.1), "split at \(cut), \(second)")
            }
        }
    }

    @Test func byteAtATime() throws {
        var p = MultipartParser(boundary: "XyZ")
        var events: [MultipartParser.Event] = []
        for b in Self.body { events += try p.feed([b]) }
        try p.finish()
        #expect(Self.parts(events).map(\.1) == ["{\"rate\":0.3}", "\r\n--XyY-not-yet\r\n--Xy binary \u{0}\u{1}\r\n"])
    }

    @Test func truncatedBodyAndMissingNameAreErrors() throws {
        var p = MultipartParser(boundary: "XyZ")
        _ = try p.feed(Self.body.prefix(80))
        #expect(throws: MultipartParser.Failure.self) { try p.finish() }
        var q = MultipartParser(boundary: "b")
        #expect(throws: MultipartParser.Failure.self) {
            _ = try q.feed(Array("--b\r\nContent-Disposition: form-data\r\n\r\nx\r\n--b--".utf8))
        }
    }

    @Test func boundaryFromContentType() {
        #expect(MultipartParser.boundary(contentType: "multipart/form-data; boundary=----abc") == "----abc")
        #expect(MultipartParser.boundary(contentType: "Multipart/Form-Data; charset=utf-8; boundary=\"a b\"") == "a b")
        #expect(MultipartParser.boundary(contentType: "multipart/mixed; boundary=x") == nil)
        #expect(MultipartParser.boundary(contentType: "multipart/form-data") == nil)
    }
}
