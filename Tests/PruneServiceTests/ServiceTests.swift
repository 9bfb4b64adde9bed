import CZlib
import Foundation
import HTTPServer
import PruneKit
import Testing
@testable import PruneService

/// The service in process: requests built by hand, answered by `PruneService.handle`.
final class ServiceHarness {
    let dir = temporaryDirectory()
    let service: PruneService

    init(workers: Int = 1, token: String? = nil) throws {
        var config = PruneService.Configuration(dataDirectory: dir)
        config.workers = workers
        config.token = token
        service = try PruneService(configuration: config)
        try service.start()
    }

    deinit { try? FileManager.default.removeItem(at: dir) }

    func send(_ method: HTTPMethod, _ target: String, headers: HTTPHeaders = [:], body: [UInt8] = []) async throws -> HTTPResponse {
        let head = HTTPRequestHead(method: method, target: target, headers: headers,
                                   bodyLength: body.isEmpty ? .none : .fixed(Int64(body.count)), requestID: "test")
        let request = HTTPRequest(head: head, body: HTTPRequestBody(bytes: body))
        // As the server does: the immediate handler first for requests without content.
        if body.isEmpty, let response = service.handleImmediately(request) { return response }
        return try await service.handle(request)
    }

    /// Through `handle` alone, as the server does when the immediate handler passes.
    func sendToHandle(_ method: HTTPMethod, _ target: String, headers: HTTPHeaders = [:]) async throws -> HTTPResponse {
        let head = HTTPRequestHead(method: method, target: target, headers: headers, requestID: "test")
        return try await service.handle(HTTPRequest(head: head, body: HTTPRequestBody(bytes: [])))
    }

    func immediately(_ method: HTTPMethod, _ target: String, headers: HTTPHeaders = [:]) -> HTTPResponse? {
        let head = HTTPRequestHead(method: method, target: target, headers: headers, requestID: "test")
        return service.handleImmediately(HTTPRequest(head: head, body: HTTPRequestBody(bytes: [])))
    }

    func json(_ response: HTTPResponse) throws -> [String: Any] {
        guard case let .bytes(b) = response.body else { return [:] }
        return try JSONSerialization.jsonObject(with: Data(b)) as? [String: Any] ?? [:]
    }

    /// Polls until the job is finished (or 30 s pass).
    func waitFinished(_ id: String) async throws -> Job {
        for _ in 0..<3000 {
            if let j = service.store.job(id), j.status.isFinished { return j }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw CancellationError()
    }

    static func multipart(_ parts: [(name: String, filename: String?, content: [UInt8])], boundary: String = "b0undary") -> (HTTPHeaders, [UInt8]) {
        var body: [UInt8] = []
        for p in parts {
            body += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(p.name)\"".utf8)
            if let f = p.filename { body += Array("; filename=\"\(f)\"".utf8) }
            body += Array("\r\n\r\n".utf8) + p.content + Array("\r\n".utf8)
        }
        body += Array("--\(boundary)--\r\n".utf8)
        return (["Content-Type": "multipart/form-data; boundary=\(boundary)"], body)
    }
}

func exampleONNX(_ arch: ExampleArchitecture = .resnet) throws -> [UInt8] {
    [UInt8](try ONNXFile.write(arch.build(seed: 1)))
}

/// gunzip through zlib, for checking what the service sends.
func gunzip(_ data: [UInt8]) -> [UInt8]? {
    var stream = z_stream()
    guard czlib_inflateInit2(&stream, 15 + 16) == Z_OK else { return nil }
    defer { inflateEnd(&stream) }
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    return data.withUnsafeBufferPointer { input -> [UInt8]? in
        stream.next_in = input.baseAddress
        stream.avail_in = UInt32(input.count)
        while true {
            let status = chunk.withUnsafeMutableBufferPointer { buf -> Int32 in
                stream.next_out = buf.baseAddress
                stream.avail_out = UInt32(buf.count)
                return inflate(&stream, Z_NO_FLUSH)
            }
            out += chunk[0..<(chunk.count - Int(stream.avail_out))]
            if status == Z_STREAM_END { return out }
            if status != Z_OK { return nil }
        }
    }
}

/// (name, content) of every file in a ustar archive.
func untar(_ tar: [UInt8]) -> [(String, [UInt8])] {
    var files: [(String, [UInt8])] = []
    var at = 0
    while at + 512 <= tar.count, tar[at] != 0 {
        let header = tar[at..<(at + 512)]
        let name = String(decoding: header.prefix(100).prefix { $0 != 0 }, as: UTF8.self)
        let sizeText = String(decoding: header.dropFirst(124).prefix(11), as: UTF8.self)
        let size = Int(sizeText, radix: 8) ?? 0
        // The checksum covers the header with its own field as spaces.
        var sum = 0
        for (i, b) in header.enumerated() { sum += (148..<156).contains(i) ? 32 : Int(b) }
        guard Int(String(decoding: header.dropFirst(148).prefix(6), as: UTF8.self), radix: 8) == sum else { return [] }
        files.append((name, Array(tar[(at + 512)..<(at + 512 + size)])))
        at += 512 + (size + 511) / 512 * 512
    }
    return files
}

@Suite(.serialized) struct ServiceTests {
    @Test func submitPollAndDownloadTheResult() async throws {
        let h = try ServiceHarness()
        let (headers, body) = ServiceHarness.multipart([
            ("model", "net.onnx", try exampleONNX()),
            ("config", nil, Array(#"{"rate": 0.5}"#.utf8)),
        ])
        let accepted = try await h.send(.post, "/jobs", headers: headers, body: body)
        #expect(accepted.status == .accepted)
        let job = try h.json(accepted)
        let id = try #require(job["id"] as? String)
        #expect(accepted.headers["Location"] == "/jobs/\(id)")
        #expect(job["status"] as? String == "queued")

        let finished = try await h.waitFinished(id)
        #expect(finished.status == .succeeded, "\(finished.error?.message ?? "")")
        #expect(finished.summary?.first?.task == "net")
        #expect(finished.summary!.first!.paramsAfter < finished.summary!.first!.paramsBefore)

        let polled = try h.json(try await h.send(.get, "/jobs/\(id)"))
        #expect(polled["status"] as? String == "succeeded" && polled["progress"] as? Double == 1)

        let result = try await h.send(.get, "/jobs/\(id)/result")
        #expect(result.status == .ok && result.headers["Content-Type"] == "application/gzip" && result.headers["ETag"] != nil)
        let archive = try Data(contentsOf: h.service.store.artifacts(of: id).appendingPathComponent("result.tar.gz"))
        let files = untar(try #require(gunzip([UInt8](archive))))
        #expect(files.map(\.0) == ["net.onnx", "report.json"])
        let pruned = try ONNXFile.read(Data(files[0].1))
        #expect(pruned.initializers["conv1.weight"]?.shape == [8, 3, 3, 3])

        let report = try await h.send(.get, "/jobs/\(id)/artifacts/report.json")
        #expect(report.status == .ok && report.headers["Content-Type"] == "application/json")
        #expect(try await h.send(.get, "/jobs/\(id)/artifacts/nope.onnx").status == .notFound)

        #expect(try await h.send(.delete, "/jobs/\(id)").status == .noContent)
        #expect(try await h.send(.get, "/jobs/\(id)").status == .notFound)
        #expect(!FileManager.default.fileExists(atPath: h.service.store.directory(of: id).path))
    }

    @Test func rawUploadWithQueryConfig() async throws {
        let h = try ServiceHarness()
        let r = try await h.send(.post, "/jobs?rate=0.25&filename=mine.onnx", headers: ["Content-Type": "application/onnx"], body: try exampleONNX(.vgg))
        #expect(r.status == .accepted)
        let job = try h.json(r)
        #expect((job["config"] as? [String: Any])?["rate"] as? Double == 0.25)
        #expect(((job["models"] as? [[String: Any]])?.first?["task"]) as? String == "mine")
        let done = try await h.waitFinished(job["id"] as! String)
        #expect(done.status == .succeeded && done.artifacts?.map(\.name).contains("mine.onnx") == true)
        // A parameter given twice is ambiguous: 422 naming it, not one of the values taken quietly.
        for target in ["/jobs?rate=0.3&rate=0.5", "/jobs?filename=a.onnx&filename=b.onnx"] {
            let twice = try await h.send(.post, target, headers: ["Content-Type": "application/onnx"], body: try exampleONNX(.vgg))
            #expect(twice.status == .unprocessableContent)
            let name = target.contains("rate") ? "rate" : "filename"
            #expect((try h.json(twice)["error"] as? [String: Any])?["message"] as? String
                == "config field '\(name)': query parameter given more than once; give it once")
        }
    }

    @Test func badInputGetsClearErrors() async throws {
        let h = try ServiceHarness()
        let model = try exampleONNX()
        let (mh, badConfig) = ServiceHarness.multipart([("model", "net.onnx", model), ("config", nil, Array(#"{"rate": 2}"#.utf8))])
        let r422 = try await h.send(.post, "/jobs", headers: mh, body: badConfig)
        #expect(r422.status == .unprocessableContent)
        let message = (try h.json(r422)["error"] as? [String: Any])?["message"] as? String ?? ""
        #expect(message.contains("'rate'"))
        let (_, noModel) = ServiceHarness.multipart([("config", nil, Array("{}".utf8))])
        #expect(try await h.send(.post, "/jobs", headers: mh, body: noModel).status == .unprocessableContent)
        let (_, badName) = ServiceHarness.multipart([("model", "../../etc/passwd", model)])
        #expect(try await h.send(.post, "/jobs", headers: mh, body: badName).status == .unprocessableContent)
        #expect(try await h.send(.post, "/jobs", headers: ["Content-Type": "text/plain"], body: [1]).status == .unsupportedMediaType)
        #expect(try await h.send(.post, "/jobs", headers: mh, body: Array(badConfig.prefix(100))).status == .badRequest)
        #expect(try await h.send(.get, "/nope").status == .notFound)
        let r405 = try await h.send(.put, "/jobs")
        #expect(r405.status == .methodNotAllowed && r405.headers["Allow"] == "GET, HEAD, POST")
        #expect(try await h.send(.get, "/jobs/\(Job.newID())").status == .notFound)
        #expect(try await h.send(.get, "/jobs?limit=0").status == .badRequest)
        // Nothing half-written stays behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: h.service.store.uploadsDirectory.path).isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: h.service.store.jobsDirectory.path).isEmpty)
    }

    /// The model parts' names: a part sent without a file name, and two files of one stem
    /// (the task name), get messages that say what to change.
    @Test func modelPartNamingErrorsSayWhatToChange() async throws {
        let h = try ServiceHarness()
        let model = try exampleONNX()
        func message(_ parts: [(name: String, filename: String?, content: [UInt8])]) async throws -> String? {
            let (headers, body) = ServiceHarness.multipart(parts)
            let response = try await h.send(.post, "/jobs", headers: headers, body: body)
            #expect(response.status == .unprocessableContent)
            return (try h.json(response)["error"] as? [String: Any])?["message"] as? String
        }
        #expect(try await message([("model", nil, model)])
            == "model part has no file name: send the model as a file part (curl -F model=@net.onnx); its name names the task")
        #expect(try await message([("model", "digit.onnx", model), ("model", "digit.safetensors", model)])
            == "models 'digit.onnx' and 'digit.safetensors' both name the task 'digit': file names without their extension must differ")
    }

    /// ONNX output from a state_dict (no graph to write) is refused at upload, naming the field.
    @Test func onnxOutputOfASafetensorsModelIsRefusedUpFront() async throws {
        let h = try ServiceHarness()
        let state = try SafeTensorsFile(tensors: ExampleArchitecture.vgg.build(seed: 1).orderedInitializers.map { .init($0.name, $0.tensor) }).serialized()
        for format in ["onnx", "both"] {
            let (headers, body) = ServiceHarness.multipart([("model", "net.safetensors", [UInt8](state)),
                                                            ("config", nil, Array(#"{"format": "\#(format)"}"#.utf8))])
            let response = try await h.send(.post, "/jobs", headers: headers, body: body)
            #expect(response.status == .unprocessableContent)
            #expect((try h.json(response)["error"] as? [String: Any])?["message"] as? String
                == "config field 'format': 'net.safetensors' is a state_dict, which carries no graph to write as ONNX; use \"safetensors\" or \"same\"")
        }
    }

    /// A tiny model and a data file labelled with the model's own predictions: it scores 1.0 before pruning.
    @Test func aJobWithDataRecalibratesAndFineTunes() async throws {
        let h = try ServiceHarness()
        let graph = ExampleArchitecture.vgg.build(seed: 2, inputSize: 12)
        let samples = 40
        let input = Tensor(shape: [samples, 3, 12, 12], floats: (0..<(samples * 432)).map { Float(($0 * 7919) % 201) / 50 - 2 })
        let unlabelled = try TrainingData(input: input, labels: [:])
        let labels = ClassifierScore.predictions(try ClassifierGraph(graph, sampleShape: [3, 12, 12]).logits(unlabelled.inputs(Array(0..<samples))))
        let data = try SafeTensorsFile(tensors: [.init("input", input), .init("label", Tensor(shape: [samples], int64s: labels.map(Int64.init)))]).serialized()
        let (headers, body) = ServiceHarness.multipart([
            ("model", "net.onnx", [UInt8](try ONNXFile.write(graph))),
            ("config", nil, Array(#"{"rate": 0.5, "finetuneEpochs": 1, "lr": 0.02, "batchSize": 16, "candidates": 2}"#.utf8)),
            ("data", "train.safetensors", [UInt8](data)),
        ])
        let accepted = try await h.send(.post, "/jobs", headers: headers, body: body)
        #expect(accepted.status == .accepted)
        let config = try h.json(accepted)["config"] as? [String: Any]
        #expect(config?["finetuneEpochs"] as? Int == 1 && config?["batchSize"] as? Int == 16 && config?["candidates"] as? Int == 2)
        let job = try await h.waitFinished(try h.json(accepted)["id"] as! String)
        #expect(job.status == .succeeded, "\(job.error?.message ?? "")")
        let summary = try #require(job.summary?.first)
        #expect(summary.accuracyBefore == 1)
        #expect(summary.accuracyAfter.map { (0...1).contains($0) } == true)
        let report = try JSONDecoder().decode(PruneReport.self, from: Data(contentsOf: h.service.store.artifacts(of: job.id).appendingPathComponent("report.json")))
        let accuracy = try #require(report.models.first?.accuracy)
        #expect(accuracy.afterFineTuning?.accuracy == summary.accuracyAfter)
        #expect(accuracy.epochs.count == 1 && accuracy.recalibratedBatchNorms.count == 3)
        #expect(report.training == TrainingOptions(epochs: 1, learningRate: 0.02, batchSize: 16))
        #expect(report.mfis.candidates?.count == 2 && report.mfis.chosen.reason.hasPrefix("chosen on data"))

        // Bad data is a failed job naming the tensor; fine-tuning without data is refused up front.
        let bad = try SafeTensorsFile(tensors: [.init("input", input), .init("label", Tensor(shape: [3], int64s: [0, 1, 2]))]).serialized()
        let (_, badBody) = ServiceHarness.multipart([("model", "net.onnx", [UInt8](try ONNXFile.write(graph))), ("data", "d.safetensors", [UInt8](bad))])
        let failed = try await h.waitFinished(try h.json(try await h.send(.post, "/jobs", headers: headers, body: badBody))["id"] as! String)
        #expect(failed.status == .failed && failed.error?.code == "invalid_data")
        #expect(failed.error?.message.contains("'label'") == true)
        let (_, noData) = ServiceHarness.multipart([("model", "net.onnx", [UInt8](try ONNXFile.write(graph))),
                                                    ("config", nil, Array(#"{"finetuneEpochs": 2}"#.utf8))])
        let refused = try await h.send(.post, "/jobs", headers: headers, body: noData)
        #expect(refused.status == .unprocessableContent)
        #expect(((try h.json(refused)["error"] as? [String: Any])?["message"] as? String)?.contains("'finetuneEpochs'") == true)
        let (_, noDataToMeasure) = ServiceHarness.multipart([("model", "net.onnx", [UInt8](try ONNXFile.write(graph))),
                                                             ("config", nil, Array(#"{"criteria": ["activation"]}"#.utf8))])
        let unmeasured = try await h.send(.post, "/jobs", headers: headers, body: noDataToMeasure)
        #expect(unmeasured.status == .unprocessableContent)
        #expect(((try h.json(unmeasured)["error"] as? [String: Any])?["message"] as? String)?.contains("'criteria'") == true)
    }

    @Test func severalModelsMakeOneMultiTaskJob() async throws {
        let h = try ServiceHarness()
        let (headers, body) = ServiceHarness.multipart([
            ("model", "digits.onnx", try exampleONNX()),
            ("model", "parity.onnx", try exampleONNX()),
            ("config", nil, Array(#"{"rate": 0.5, "generations": 3, "population": 8, "seed": 1}"#.utf8)),
        ])
        let id = try #require(try h.json(try await h.send(.post, "/jobs", headers: headers, body: body))["id"] as? String)
        let job = try await h.waitFinished(id)
        #expect(job.status == .succeeded, "\(job.error?.message ?? "")")
        #expect(job.summary?.map(\.task) == ["digits", "parity"])
        #expect(job.artifacts?.map(\.name) == ["digits.onnx", "index.json", "multitask.safetensors", "parity.onnx", "report.json", "result.tar.gz"])
        // Two copies of one model share every filter both keep: the bundle stores one model's worth.
        let report = try JSONDecoder().decode(PruneReport.self, from: Data(contentsOf: h.service.store.artifacts(of: id).appendingPathComponent("report.json")))
        #expect(report.mfis.storage.afterSharing < report.mfis.storage.beforeSharing)
        #expect(report.rate == 0.5 && report.models.count == 2)

        let (mh, mismatched) = ServiceHarness.multipart([("model", "a.onnx", try exampleONNX()), ("model", "b.onnx", try exampleONNX(.vgg))])
        let bad = try await h.waitFinished(try #require(try h.json(try await h.send(.post, "/jobs", headers: mh, body: mismatched))["id"] as? String))
        #expect(bad.status == .failed && bad.error?.code == "invalid_model" && bad.error?.message.contains("not of one backbone") == true)
    }

    /// `inputShape` gives a symbolic input its shape, as `--input-shape` does: a FLOPs budget
    /// then runs; without it the job fails saying the shape is missing; a name that is no
    /// input fails naming the inputs there are.
    @Test func inputShapeReachesThePipeline() async throws {
        let h = try ServiceHarness()
        var graph = ExampleArchitecture.vgg.build(seed: 1, inputSize: 12)
        graph.inputs[0].shape = [.fixed(1), .fixed(3), .symbolic("h"), .symbolic("w")]
        let model = [UInt8](try ONNXFile.write(graph))
        func run(_ config: String) async throws -> Job {
            let (headers, body) = ServiceHarness.multipart([("model", "net.onnx", model), ("config", nil, Array(config.utf8))])
            let r = try await h.send(.post, "/jobs", headers: headers, body: body)
            #expect(r.status == .accepted)
            return try await h.waitFinished(try #require(try h.json(r)["id"] as? String))
        }
        let shaped = try await run(#"{"budget": "flops=0.6", "generations": 3, "population": 8, "inputShape": {"input": [1, 3, 12, 12]}}"#)
        #expect(shaped.status == .succeeded, "\(shaped.error?.message ?? "")")
        let summary = try #require(shaped.summary?.first)
        let before = try #require(summary.flopsBefore), after = try #require(summary.flopsAfter)
        #expect(before > 0 && Double(after) <= 0.6 * Double(before))
        let unshaped = try await run(#"{"budget": "flops=0.6", "generations": 3, "population": 8}"#)
        #expect(unshaped.status == .failed && unshaped.error?.message.contains("the service's inputShape") == true, "\(unshaped.error?.message ?? "")")
        let misnamed = try await run(#"{"rate": 0.3, "generations": 3, "population": 8, "inputShape": "x=1x3x12x12"}"#)
        #expect(misnamed.status == .failed && misnamed.error?.message.contains("not a graph input of 'net' (its inputs: input)") == true,
                "\(misnamed.error?.message ?? "")")
    }

    @Test func aBadModelIsAFailedJobNamingTheProblem() async throws {
        let h = try ServiceHarness()
        let (headers, body) = ServiceHarness.multipart([("model", "broken.onnx", Array("not a model at all".utf8))])
        let id = try h.json(try await h.send(.post, "/jobs", headers: headers, body: body))["id"] as! String
        let job = try await h.waitFinished(id)
        #expect(job.status == .failed && job.error?.code == "invalid_model")
        #expect(job.error?.message.contains("broken.onnx") == true)
        #expect(try await h.send(.get, "/jobs/\(id)/result").status == .conflict)
    }

    @Test func listHealthReadyMetricsAndToken() async throws {
        let h = try ServiceHarness(token: "s3cret")
        #expect(try await h.send(.get, "/jobs").status == .unauthorized)
        #expect(try await h.send(.get, "/jobs", headers: ["Authorization": "Bearer s3cret"]).status == .ok)
        #expect(try await h.send(.get, "/healthz").status == .ok)
        #expect(try await h.send(.get, "/readyz").status == .ok)
        let metrics = try await h.send(.get, "/metrics")
        guard case let .bytes(b) = metrics.body else { Issue.record("metrics body"); return }
        let text = String(decoding: b, as: UTF8.self)
        #expect(text.contains("pruned_jobs{state=\"queued\"} 0") && text.contains("pruned_queue_length 0"))
        await h.service.drain(deadline: .seconds(1))
        #expect(try await h.send(.get, "/readyz").status == .serviceUnavailable)
    }

    @Test func immediateAnswersMatchTheTaskRunOnes() async throws {
        let h = try ServiceHarness(token: "s3cret")
        let auth: HTTPHeaders = ["Authorization": "Bearer s3cret"]
        let accepted = try await h.send(.post, "/jobs?filename=net.onnx", headers: ["Authorization": "Bearer s3cret", "Content-Type": "application/onnx"],
                                        body: try exampleONNX())
        let id = try #require(try h.json(accepted)["id"] as? String)
        _ = try await h.waitFinished(id)
        func body(_ r: HTTPResponse?) -> [UInt8]? {
            guard let r, case let .bytes(b) = r.body else { return nil }
            return b
        }
        // A job's state: from memory, the same bytes either way, and the bytes job.json holds.
        let quick = try #require(h.immediately(.get, "/jobs/\(id)", headers: auth))
        let slow = try await h.sendToHandle(.get, "/jobs/\(id)", headers: auth)
        #expect(quick.status == .ok && slow.status == .ok)
        #expect(body(quick) == body(slow))
        #expect(quick.headers["Content-Type"] == "application/json")
        let onDisk = try Data(contentsOf: h.service.store.directory(of: id).appendingPathComponent("job.json"))
        #expect(body(quick) == [UInt8](onDisk))
        // Errors come out at once too.
        #expect(h.immediately(.get, "/jobs/\(id)")?.status == .unauthorized)
        #expect(h.immediately(.get, "/jobs/0123", headers: auth)?.status == .notFound)
        #expect(h.immediately(.get, "/nowhere")?.status == .notFound)
        #expect(h.immediately(.put, "/healthz")?.status == .methodNotAllowed)
        #expect(h.immediately(.get, "/healthz")?.status == .ok)
        // What needs I/O or waiting goes to `handle`.
        #expect(h.immediately(.get, "/metrics") == nil)
        #expect(h.immediately(.get, "/jobs", headers: auth) == nil)
        #expect(h.immediately(.delete, "/jobs/\(id)", headers: auth) == nil)
        #expect(h.immediately(.get, "/jobs/\(id)/result", headers: auth) == nil)
    }

    @Test func routesMatchOpenAPI() throws {
        // openapi.yaml at the package root: every path and method, no more, no less.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let text = try String(contentsOf: root.appendingPathComponent("openapi.yaml"), encoding: .utf8)
        var spec: [String: Set<String>] = [:]
        var inPaths = false, current: String?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("paths:") { inPaths = true; continue }
            if inPaths, let first = line.first, first != " ", first != "#" { inPaths = false }
            guard inPaths else { continue }
            if line.hasPrefix("  /"), line.hasSuffix(":") { current = String(line.dropFirst(2).dropLast()); spec[current!] = []; continue }
            let t = line.trimmingCharacters(in: .whitespaces)
            if let c = current, line.hasPrefix("    "), !line.hasPrefix("     "),
               ["get:", "head:", "post:", "put:", "delete:", "patch:", "options:"].contains(t) {
                spec[c]!.insert(String(t.dropLast()).uppercased())
            }
        }
        let routes = Dictionary(uniqueKeysWithValues: Route.allCases.map { ($0.rawValue, Set($0.methods.map(\.rawValue))) })
        #expect(spec == routes)
    }
}

@Suite(.serialized) struct CancellationTests {
    @Test func deleteStopsARunningJobWithinASecond() async throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var config = PruneService.Configuration(dataDirectory: dir)
        config.debugStageDelay = 2  // every stage pauses 2 s: the job is surely running when DELETE comes
        let service = try PruneService(configuration: config)
        try service.start()
        let (headers, body) = ServiceHarness.multipart([("model", "net.onnx", try exampleONNX())])
        let head = HTTPRequestHead(method: .post, target: "/jobs", headers: headers, bodyLength: .fixed(Int64(body.count)))
        let accepted = try await service.handle(HTTPRequest(head: head, body: HTTPRequestBody(bytes: body)))
        guard case let .bytes(b) = accepted.body, let id = (try JSONSerialization.jsonObject(with: Data(b)) as? [String: Any])?["id"] as? String else {
            Issue.record("no job id"); return
        }
        for _ in 0..<500 where service.store.job(id)?.status != .running { try await Task.sleep(for: .milliseconds(10)) }
        #expect(service.store.job(id)?.status == .running)
        let clock = ContinuousClock()
        let start = clock.now
        let response = try await service.handle(HTTPRequest(head: HTTPRequestHead(method: .delete, target: "/jobs/\(id)"), body: HTTPRequestBody(bytes: [])))
        #expect(response.status == .ok)
        #expect(clock.now - start < .seconds(1))
        #expect(service.store.job(id)?.status == .cancelled)
        #expect(try FileManager.default.contentsOfDirectory(atPath: service.store.artifacts(of: id).path).isEmpty)
        await service.drain(deadline: .seconds(2))
    }
}
