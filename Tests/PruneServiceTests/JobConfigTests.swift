import Foundation
import Testing
import PruneKit
@testable import PruneService

@Suite struct JobConfigTests {
    @Test func defaultsAndValues() throws {
        #expect(try JobConfig.parse(json: Data("{}".utf8)).rate == 0.3)
        let c = try JobConfig.parse(json: Data(#"{"rate": 0.5, "format": "both"}"#.utf8))
        #expect(c.rate == 0.5 && c.format == "both")
        #expect(try JobConfig.parse(query: [("rate", "0.25")]).rate == 0.25)
        let training = try JobConfig.parse(json: Data(#"{"finetuneEpochs": 3, "lr": 0.05, "batchSize": 32}"#.utf8))
        #expect(training.training == TrainingOptions(epochs: 3, learningRate: 0.05, batchSize: 32))
        #expect(try JobConfig.parse(json: Data("{}".utf8)).training == TrainingOptions())
        let query = try JobConfig.parse(query: [("finetuneEpochs", "2"), ("lr", "0.1"), ("batchSize", "8")])
        #expect(query.finetuneEpochs == 2 && query.lr == 0.1 && query.batchSize == 8)
        // A job.json written before the training keys existed still loads, with their defaults.
        let old = try JSONDecoder().decode(JobConfig.self, from: Data(#"{"rate": 0.4, "format": "onnx"}"#.utf8))
        #expect(old.rate == 0.4 && old.finetuneEpochs == 0 && old.batchSize == TrainingOptions.defaultBatchSize)
    }

    @Test(arguments: [
        (#"{"rate": 1.5}"#, "rate"), (#"{"rate": "x"}"#, "rate"), (#"{"rate": true}"#, "rate"),
        (#"{"format": "tflite"}"#, "format"), (#"{"rat": 0.3}"#, "rat"), ("[1]", "config"), ("{", "config"),
        (#"{"finetuneEpochs": -1}"#, "finetuneEpochs"), (#"{"finetuneEpochs": 1.5}"#, "finetuneEpochs"),
        (#"{"finetuneEpochs": "2"}"#, "finetuneEpochs"), (#"{"lr": 0}"#, "lr"), (#"{"lr": -0.1}"#, "lr"), (#"{"lr": 1e40}"#, "lr"),
        (#"{"lr": "fast"}"#, "lr"), (#"{"batchSize": 0}"#, "batchSize"), (#"{"batchSize": 100000}"#, "batchSize"),
        (#"{"batchSize": 2.5}"#, "batchSize"),
    ])
    func invalidConfigNamesTheField(json: String, field: String) {
        #expect { try JobConfig.parse(json: Data(json.utf8)) } throws: { ($0 as? JobConfig.Invalid)?.field == field }
    }

    @Test func unknownQueryParameterIsAnError() {
        #expect { try JobConfig.parse(query: [("rates", "0.3")]) } throws: { ($0 as? JobConfig.Invalid)?.field == "rates" }
        #expect { try JobConfig.parse(query: [("rate", "abc")]) } throws: { ($0 as? JobConfig.Invalid)?.field == "rate" }
        #expect { try JobConfig.parse(query: [("batchSize", "1.5")]) } throws: { ($0 as? JobConfig.Invalid)?.field == "batchSize" }
        #expect { try JobConfig.parse(query: [("finetuneEpochs", "-3")]) } throws: { ($0 as? JobConfig.Invalid)?.field == "finetuneEpochs" }
    }
}
