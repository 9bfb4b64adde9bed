import Foundation
import Testing
@testable import PruneKit

/// Reports: arrays of plain values on one line, everything else as the encoder pretty-prints it.
@Suite struct ReportJSONTests {
    struct Sample: Codable, Equatable {
        var front: [[Double]]
        var names: [String]
        var flags: [Bool?]
        var empty: [Int]
        var note: String
        var nested: [String: [Int]]
    }

    static let sample = Sample(front: [[0.5, 1.25], [3, -0.25]], names: ["a", "b,c"], flags: [true, nil], empty: [],
                               note: "not an array: [1,\n 2] \"quoted [3]\"", nested: ["x": [1, 2, 3]])

    @Test func plainArraysGoOnOneLineAndTheValueIsUnchanged() throws {
        let data = try ReportJSON.encode(Self.sample)
        #expect(try JSONDecoder().decode(Sample.self, from: data) == Self.sample)
        let text = String(decoding: data, as: UTF8.self)
        let lines = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        #expect(lines.contains("[0.5, 1.25],"))
        #expect(lines.contains("[3, -0.25]"))
        #expect(lines.contains("\"flags\" : [true, null],"))
        #expect(lines.contains("\"empty\" : [],"))
        #expect(lines.contains("\"x\" : [1, 2, 3]"))
        // An array of strings stays one per line; a string's brackets and escapes are its own.
        #expect(lines.contains("\"a\","))
        #expect(text.contains(#""note" : "not an array: [1,\n 2] \"quoted [3]\"""#))
    }

    @Test func anArrayOfArraysKeepsItsOuterBracketsOnTheirOwnLines() throws {
        let text = String(decoding: try ReportJSON.encode(Self.sample), as: UTF8.self)
        #expect(text.contains("\"front\" : [\n"))
    }

    @Test func objectivesKeepSixSignificantDigits() {
        #expect(ReportJSON.rounded([0.29483674478226610, 1234567.89, -0.000123456789, 0, 1]) == [0.294837, 1234570, -0.000123457, 0, 1])
        #expect(ReportJSON.rounded([Double.infinity]) == [.infinity])
        #expect(ReportJSON.rounded([Double.nan])[0].isNaN)
        // Already short values come back as they were, and print as written.
        #expect("\(ReportJSON.rounded([0.294837])[0])" == "0.294837")
        #expect("\(ReportJSON.rounded([0.1 + 0.2])[0])" == "0.3")
    }
}
