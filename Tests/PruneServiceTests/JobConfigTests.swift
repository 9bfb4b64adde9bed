import Foundation
import PruneKit
import Testing
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
        // The held-out fraction, and `seed` seeds the split as on the command line.
        let held = try JobConfig.parse(json: Data(#"{"holdout": 0, "seed": 4}"#.utf8))
        #expect(held.training == TrainingOptions(heldOutFraction: 0, seed: 4))
        #expect(try JobConfig.parse(query: [("holdout", "0.25")]).holdout == 0.25)
        #expect { try JobConfig.parse(json: Data(#"{"holdout": 1}"#.utf8)) } throws: { ($0 as? JobConfig.Invalid)?.field == "holdout" }
        #expect { try JobConfig.parse(json: Data(#"{"holdout": "all"}"#.utf8)) } throws: { ($0 as? JobConfig.Invalid)?.field == "holdout" }
        // A job.json written before the training keys existed still loads, with their defaults.
        let old = try JSONDecoder().decode(JobConfig.self, from: Data(#"{"rate": 0.4, "format": "onnx"}"#.utf8))
        #expect(old.rate == 0.4 && old.finetuneEpochs == 0 && old.batchSize == TrainingOptions.defaultBatchSize)
        let d = try JobConfig().mfisOptions()
        #expect(d.target == .rate(0.3) && d.sharing && d.criteria == MFISOptions.Criterion.defaults && d.generations == 100)
        #expect(d.candidates == nil && old.candidates == nil && d.candidateCount(fineTuning: false) == 8 && d.candidateCount(fineTuning: true) == 1)
        #expect(try JobConfig().mfisOptions(withData: true).criteria == MFISOptions.Criterion.defaultsWithData)
        #expect(try JobConfig.parse(json: Data(#"{"criteria": ["magnitude"]}"#.utf8)).mfisOptions(withData: true).criteria == [.magnitude])
        #expect(try JobConfig.parse(json: Data(#"{"candidates": 1}"#.utf8)).mfisOptions().candidates == 1)
        #expect(try JobConfig.parse(query: [("candidates", "6")]).mfisOptions().candidates == 6)
        // The training recipe's momentum and weight decay, roundTo and input shapes, as on the CLI.
        #expect(d.roundTo == 1 && old.momentum == 0.9 && old.weightDecay == 5e-4 && old.inputShape.isEmpty)
        let more = try JobConfig.parse(json: Data(#"{"momentum": 0.5, "weightDecay": 0, "roundTo": 8, "inputShape": {"x": [1, 3, 32, 32]}}"#.utf8))
        let moreOptions = try more.mfisOptions()
        #expect(more.training.momentum == 0.5 && more.training.weightDecay == 0 && moreOptions.roundTo == 8)
        #expect(more.inputShape == ["x": [1, 3, 32, 32]])
        #expect(try JSONDecoder().decode(JobConfig.self, from: JSONEncoder().encode(more)) == more)
        let queried = try JobConfig.parse(query: [("momentum", "0.8"), ("weightDecay", "0.001"), ("roundTo", "4"),
                                                  ("inputShape", "x=1x3x8x8,y=1x10")])
        #expect(queried.momentum == 0.8 && queried.weightDecay == 0.001 && queried.roundTo == 4)
        #expect(queried.inputShape == ["x": [1, 3, 8, 8], "y": [1, 10]])
        #expect(try JobConfig.parse(json: Data(#"{"inputShape": "x=2x4"}"#.utf8)).inputShape == ["x": [2, 4]])
        for (bad, field) in [(#"{"momentum": 1}"#, "momentum"), (#"{"weightDecay": -0.1}"#, "weightDecay"), (#"{"roundTo": 0}"#, "roundTo"),
                             (#"{"roundTo": 1.5}"#, "roundTo"), (#"{"inputShape": {"x": [1, 0]}}"#, "inputShape"),
                             (#"{"inputShape": {"x": "1x3"}}"#, "inputShape"), (#"{"inputShape": "x=1x3x"}"#, "inputShape"),
                             (#"{"inputShape": "=1x3"}"#, "inputShape"), (#"{"inputShape": 3}"#, "inputShape")] {
            #expect { try JobConfig.parse(json: Data(bad.utf8)) } throws: { ($0 as? JobConfig.Invalid)?.field == field }
        }
        // A key given twice is named, however it is spelt; nested objects may repeat keys of the top.
        for json in [#"{"rate": 0.3, "rate": 0.5}"#, #"{"rate": 0.3, "seed": 1, "r\u0061te" : 0.5}"#] {
            #expect { try JobConfig.parse(json: Data(json.utf8)) } throws: {
                ($0 as? JobConfig.Invalid) == JobConfig.Invalid(field: "rate", message: "given more than once; give it once")
            }
        }
        #expect(try JobConfig.parse(json: Data(#"{"inputShape": {"rate": [1, 3], "seed": [2]}, "rate": 0.3, "criteria": ["magnitude", "magnitude"]}"#.utf8)).rate == 0.3)
        // An escaped quote inside a string does not end it: `"rate": ` in there is no key.
        #expect(try JobConfig.parse(json: Data(#"{"seed": 1, "inputShape": "a\"seed\": =1x3"}"#.utf8)).seed == 1)
        // The accuracy margin: points, 0.5 by default (also for a job.json written before it).
        #expect(d.accuracyMargin == 0.5 && old.accuracyMargin == 0.5)
        #expect(try JobConfig.parse(json: Data(#"{"accuracyMargin": 0}"#.utf8)).mfisOptions().accuracyMargin == 0)
        #expect(try JobConfig.parse(query: [("accuracyMargin", "1.5")]).mfisOptions().accuracyMargin == 1.5)
        for bad in [#"{"accuracyMargin": -1}"#, #"{"accuracyMargin": 101}"#, #"{"accuracyMargin": "half"}"#] {
            #expect { try JobConfig.parse(json: Data(bad.utf8)).mfisOptions() } throws: { ($0 as? JobConfig.Invalid)?.field == "accuracyMargin" }
        }
    }

    @Test func everyMFISKeyFromJSON() throws {
        let c = try JobConfig.parse(json: Data(#"""
            {"budget": "flops=0.4", "criteria": ["magnitude"], "sharing": false, "seed": 7, "generations": 12, "population": 40}
            """#.utf8))
        let o = try c.mfisOptions()
        #expect(o.target == .budget(.flops, 0.4) && o.criteria == [.magnitude] && !o.sharing)
        #expect(o.seed == 7 && o.generations == 12 && o.population == 40)
        #expect(c.rate == nil)
        #expect(try JobConfig.parse(json: Data(#"{"rate": "adaptive"}"#.utf8)).mfisOptions().target == .adaptive)
        #expect(try JobConfig.parse(json: Data(#"{"budget": {"params": 0.5}}"#.utf8)).mfisOptions().target == .budget(.params, 0.5))
        // What job.json stores reads back the same.
        let again = try JSONDecoder().decode(JobConfig.self, from: JSONEncoder().encode(c))
        #expect(again == c)
        let adaptive = try JobConfig.parse(json: Data(#"{"rate": "adaptive"}"#.utf8))
        #expect(try JSONDecoder().decode(JobConfig.self, from: JSONEncoder().encode(adaptive)) == adaptive)
    }

    @Test func everyMFISKeyFromTheQuery() throws {
        let c = try JobConfig.parse(query: [("rate", "adaptive"), ("criteria", "magnitude,irreplaceability"), ("sharing", "false"),
                                            ("seed", "3"), ("generations", "5"), ("population", "8")])
        let o = try c.mfisOptions()
        #expect(o.target == .adaptive && o.criteria == [.magnitude, .irreplaceability] && !o.sharing)
        #expect(o.seed == 3 && o.generations == 5 && o.population == 8)
        #expect(try JobConfig.parse(query: [("budget", "params=0.4")]).mfisOptions().target == .budget(.params, 0.4))
    }

    @Test(arguments: [
        (#"{"rate": 1.5}"#, "rate"), (#"{"rate": "x"}"#, "rate"), (#"{"rate": true}"#, "rate"),
        (#"{"format": "tflite"}"#, "format"), (#"{"rat": 0.3}"#, "rat"), ("[1]", "config"), ("{", "config"),
        (#"{"finetuneEpochs": -1}"#, "finetuneEpochs"), (#"{"finetuneEpochs": 1.5}"#, "finetuneEpochs"),
        (#"{"finetuneEpochs": "2"}"#, "finetuneEpochs"), (#"{"lr": 0}"#, "lr"), (#"{"lr": -0.1}"#, "lr"), (#"{"lr": 1e40}"#, "lr"),
        (#"{"lr": "fast"}"#, "lr"), (#"{"batchSize": 0}"#, "batchSize"), (#"{"batchSize": 100000}"#, "batchSize"),
        (#"{"batchSize": 2.5}"#, "batchSize"),
        (#"{"rate": 0.3, "budget": "params=0.4"}"#, "budget"), (#"{"budget": "params=2"}"#, "budget"),
        (#"{"budget": "memory=0.5"}"#, "budget"), (#"{"budget": 0.4}"#, "budget"), (#"{"budget": {"params": 0.4, "flops": 0.5}}"#, "budget"),
        (#"{"criteria": ["magnitude", "taylor"]}"#, "criteria"), (#"{"criteria": ["shareability"]}"#, "criteria"),
        (#"{"criteria": 3}"#, "criteria"), (#"{"sharing": "yes"}"#, "sharing"), (#"{"seed": -1}"#, "seed"),
        (#"{"seed": 1.5}"#, "seed"), (#"{"generations": 1e9}"#, "generations"), (#"{"population": 2}"#, "population"),
        (#"{"population": "many"}"#, "population"),
        (#"{"candidates": 0}"#, "candidates"), (#"{"candidates": 33}"#, "candidates"), (#"{"candidates": 2.5}"#, "candidates"),
        (#"{"candidates": "4"}"#, "candidates"),
    ])
    func invalidConfigNamesTheField(json: String, field: String) {
        #expect { try JobConfig.parse(json: Data(json.utf8)) } throws: { ($0 as? JobConfig.Invalid)?.field == field }
    }

    @Test func unknownQueryParameterIsAnError() {
        #expect { try JobConfig.parse(query: [("rates", "0.3")]) } throws: { ($0 as? JobConfig.Invalid)?.field == "rates" }
        #expect { try JobConfig.parse(query: [("rate", "abc")]) } throws: { ($0 as? JobConfig.Invalid)?.field == "rate" }
        #expect { try JobConfig.parse(query: [("batchSize", "1.5")]) } throws: { ($0 as? JobConfig.Invalid)?.field == "batchSize" }
        #expect { try JobConfig.parse(query: [("finetuneEpochs", "-3")]) } throws: { ($0 as? JobConfig.Invalid)?.field == "finetuneEpochs" }
        #expect { try JobConfig.parse(query: [("sharing", "maybe")]) } throws: { ($0 as? JobConfig.Invalid)?.field == "sharing" }
        #expect { try JobConfig.parse(query: [("generations", "-3")]) } throws: { ($0 as? JobConfig.Invalid)?.field == "generations" }
        #expect { try JobConfig.parse(query: [("rate", "0.3"), ("budget", "params=0.4")]) } throws: { ($0 as? JobConfig.Invalid)?.field == "budget" }
    }

    /// README's table of config keys (rows `| \`key\` | default | ... |` after "Config keys")
    /// lists exactly the keys a config accepts.
    @Test func readmeConfigTableListsEveryKey() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        let section = try #require(readme.range(of: "Config keys")).upperBound
        var keys: Set<String> = []
        var inTable = false
        for line in readme[section...].split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("|") { inTable = true } else if inTable { break } else { continue }
            let cell = line.split(separator: "|").first?.trimmingCharacters(in: .whitespaces) ?? ""
            if cell.hasPrefix("`") && cell.hasSuffix("`") && cell.count > 2 { keys.insert(String(cell.dropFirst().dropLast())) }
        }
        #expect(keys == JobConfig.keys, "README lacks \(JobConfig.keys.subtracting(keys).sorted()), has extra \(keys.subtracting(JobConfig.keys).sorted())")
    }
}
