import Foundation
import Testing
@testable import PruneService

@Suite struct JobConfigTests {
    @Test func defaultsAndValues() throws {
        #expect(try JobConfig.parse(json: Data("{}".utf8)).rate == 0.3)
        let c = try JobConfig.parse(json: Data(#"{"rate": 0.5, "format": "both"}"#.utf8))
        #expect(c.rate == 0.5 && c.format == "both")
        #expect(try JobConfig.parse(query: [("rate", "0.25")]).rate == 0.25)
    }

    @Test(arguments: [
        (#"{"rate": 1.5}"#, "rate"), (#"{"rate": "x"}"#, "rate"), (#"{"rate": true}"#, "rate"),
        (#"{"format": "tflite"}"#, "format"), (#"{"rat": 0.3}"#, "rat"), ("[1]", "config"), ("{", "config"),
    ])
    func invalidConfigNamesTheField(json: String, field: String) {
        #expect { try JobConfig.parse(json: Data(json.utf8)) } throws: { ($0 as? JobConfig.Invalid)?.field == field }
    }

    @Test func unknownQueryParameterIsAnError() {
        #expect { try JobConfig.parse(query: [("rates", "0.3")]) } throws: { ($0 as? JobConfig.Invalid)?.field == "rates" }
        #expect { try JobConfig.parse(query: [("rate", "abc")]) } throws: { ($0 as? JobConfig.Invalid)?.field == "rate" }
    }
}
