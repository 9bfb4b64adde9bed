import Foundation
import HTTPServer
import PruneKit

/// `POST /jobs`: the upload, streamed to disk part by part, then made a job in one rename.
extension PruneService {
    static let maxConfigBytes = 64 * 1024

    func submit(_ request: HTTPRequest) async throws -> HTTPResponse {
        guard isReady else {
            throw HTTPError(.serviceUnavailable, code: "not_ready", message: "the service is starting or shutting down; retry shortly",
                            headers: ["Retry-After": "5"])
        }
        let contentType = request.headers["Content-Type"] ?? ""
        let upload = try store.newUpload()
        do {
            var received: Upload
            let mediaType = contentType.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
            if mediaType == "multipart/form-data" {
                guard let boundary = MultipartParser.boundary(contentType: contentType) else {
                    throw HTTPError.badRequest("multipart/form-data without a valid boundary parameter")
                }
                if let first = request.head.queryParameters.first {
                    throw HTTPError(.unprocessableContent, code: "invalid_config",
                                    message: "query parameter '\(first.name)': with multipart/form-data the config goes in the 'config' part")
                }
                received = try await receiveMultipart(request, boundary: boundary, into: upload)
            } else if mediaType == "application/octet-stream" || mediaType == "application/onnx" {
                received = try await receiveRaw(request, mediaType: mediaType, into: upload)
            } else {
                throw HTTPError(.unsupportedMediaType, code: "unsupported_media_type",
                                message: "send multipart/form-data (model, config, data parts) or a raw model as application/octet-stream or application/onnx; got '\(contentType)'")
            }
            guard !received.models.isEmpty else {
                throw HTTPError(.unprocessableContent, code: "invalid_request", message: "no 'model' part: send at least one model file")
            }
            if received.config.format == "onnx" || received.config.format == "both",
               let state = received.models.first(where: { $0.format == ModelFormat.safetensors.rawValue }) {
                throw JobConfig.Invalid(field: "format", message: "'\(state.name)' is a state_dict, which carries no graph to write as ONNX; use \"safetensors\" or \"same\"")
            }
            if received.config.finetuneEpochs > 0 && received.data == nil {
                throw JobConfig.Invalid(field: "finetuneEpochs", message: "fine-tuning needs a 'data' part to train on")
            }
            if received.data == nil, let needs = try received.config.mfisOptions(withData: false).criteria.sorted().first(where: \.needsData) {
                throw JobConfig.Invalid(field: "criteria", message: "\(needs.rawValue) is measured on calibration data: send a 'data' part")
            }
            let job = Job(id: Job.newID(), config: received.config, models: received.models, data: received.data)
            try store.commit(upload: upload, job: job)
            pool.enqueue(job.id)
            events.publish(job)
            logger.info("job queued", metadata: ["job": "\(job.id)", "request": "\(request.requestID)",
                                                  "models": "\(job.models.map(\.name))"])
            return try json(job, status: .accepted, headers: ["Location": "/jobs/\(job.id)"])
        } catch {
            try? FileManager.default.removeItem(at: upload)
            if let invalid = error as? JobConfig.Invalid {
                throw HTTPError(.unprocessableContent, code: "invalid_config", message: invalid.description)
            }
            if let bad = error as? MultipartParser.Failure { throw HTTPError.badRequest(bad.description) }
            throw error
        }
    }

    struct Upload {
        var config = JobConfig()
        var models: [Job.Input] = []
        var data: Job.Input?
    }

    /// A file name safe to store: its last path component, of letters, digits, `.`, `-`, `_`,
    /// with a model extension. The stem is the task name.
    static func modelName(_ raw: String, field: String) throws -> (name: String, format: ModelFormat) {
        let base = raw.split(separator: "/").last.map(String.init)?.split(separator: "\\").last.map(String.init) ?? ""
        guard let format = ModelFormat(path: base), !base.hasPrefix("."), base.count <= 100,
              base.unicodeScalars.allSatisfy({ CharacterSet.alphanumerics.contains($0) && $0.isASCII || "._-".unicodeScalars.contains($0) }) else {
            throw HTTPError(.unprocessableContent, code: "invalid_request",
                            message: "\(field): file name '\(raw)' must end in .onnx or .safetensors and use only letters, digits, '.', '-', '_'")
        }
        return (base, format)
    }

    private func receiveMultipart(_ request: HTTPRequest, boundary: String, into upload: URL) async throws -> Upload {
        var parser = MultipartParser(boundary: boundary)
        var result = Upload()
        /// Set once a config part begins (nil: none came).
        var configBytes: [UInt8]?
        enum Part { case model, data, config }
        var current: (kind: Part, file: FileHandle?, input: Job.Input?)?
        let inputs = upload.appendingPathComponent("inputs")
        defer { try? current?.file?.close() }

        func handle(_ event: MultipartParser.Event) throws {
            switch event {
            case let .partBegin(name, filename, _):
                switch name {
                case "model":
                    guard let filename, !filename.isEmpty else {
                        throw HTTPError(.unprocessableContent, code: "invalid_request",
                                        message: "model part has no file name: send the model as a file part (curl -F model=@net.onnx); its name names the task")
                    }
                    let (file, format) = try Self.modelName(filename, field: "model part")
                    let task = (file as NSString).deletingPathExtension
                    if let same = result.models.first(where: { $0.task == task }) {
                        throw HTTPError(.unprocessableContent, code: "invalid_request",
                                        message: "models '\(same.name)' and '\(file)' both name the task '\(task)': file names without their extension must differ")
                    }
                    let url = inputs.appendingPathComponent(file)
                    _ = FileManager.default.createFile(atPath: url.path, contents: nil)
                    current = (.model, try FileHandle(forWritingTo: url), Job.Input(name: file, task: task, format: format.rawValue, bytes: 0))
                case "data":
                    guard result.data == nil else { throw HTTPError(.unprocessableContent, code: "invalid_request", message: "more than one 'data' part") }
                    // Beside inputs/, so that no model name can collide with it.
                    let url = upload.appendingPathComponent("data.safetensors")
                    _ = FileManager.default.createFile(atPath: url.path, contents: nil)
                    current = (.data, try FileHandle(forWritingTo: url), Job.Input(name: "data.safetensors", task: "", format: "safetensors", bytes: 0))
                case "config":
                    guard configBytes == nil else { throw HTTPError(.unprocessableContent, code: "invalid_request", message: "more than one 'config' part") }
                    configBytes = []
                    current = (.config, nil, nil)
                default:
                    throw HTTPError(.unprocessableContent, code: "invalid_request",
                                    message: "unknown form field '\(name)' (expected model, config, data)")
                }
            case let .partData(bytes):
                guard let c = current else { return }
                if c.kind == .config {
                    configBytes!.append(contentsOf: bytes)
                    if configBytes!.count > Self.maxConfigBytes {
                        throw HTTPError(.contentTooLarge, code: "content_too_large", message: "the config part is over \(Self.maxConfigBytes) bytes")
                    }
                } else {
                    try c.file!.write(contentsOf: bytes)
                    current!.input!.bytes += Int64(bytes.count)
                }
            case .partEnd:
                guard let c = current else { return }
                try c.file?.close()
                switch c.kind {
                case .model: result.models.append(c.input!)
                case .data: result.data = c.input
                case .config: break
                }
                current = nil
            case .end:
                break
            }
        }

        for try await chunk in request.body {
            for event in try parser.feed(chunk) { try handle(event) }
        }
        try parser.finish()
        if let configBytes { result.config = try JobConfig.parse(json: Data(configBytes)) }
        return result
    }

    private func receiveRaw(_ request: HTTPRequest, mediaType: String, into upload: URL) async throws -> Upload {
        var query = request.head.queryParameters
        if let twice = query.enumerated().first(where: { i, p in query[..<i].contains { $0.name == p.name } })?.element.name {
            throw JobConfig.Invalid(field: twice, message: "query parameter given more than once; give it once")
        }
        let filename = query.first { $0.name == "filename" }?.value
        query.removeAll { $0.name == "filename" }
        var result = Upload()
        result.config = try JobConfig.parse(query: query)
        let temp = upload.appendingPathComponent("inputs/.upload")
        _ = FileManager.default.createFile(atPath: temp.path, contents: nil)
        let file = try FileHandle(forWritingTo: temp)
        var head: [UInt8] = []
        var bytes: Int64 = 0
        do {
            defer { try? file.close() }
            for try await chunk in request.body {
                if head.count < 16 { head += chunk.prefix(16 - head.count) }
                try file.write(contentsOf: chunk)
                bytes += Int64(chunk.count)
            }
        }
        // Without a file name, tell the format by content: safetensors opens with a length and '{'.
        let guessed = head.count > 8 && head[8] == UInt8(ascii: "{") && mediaType != "application/onnx" ? "model.safetensors" : "model.onnx"
        let (name, format) = try Self.modelName(filename ?? guessed, field: "filename")
        try FileManager.default.moveItem(at: temp, to: upload.appendingPathComponent("inputs").appendingPathComponent(name))
        result.models = [Job.Input(name: name, task: (name as NSString).deletingPathExtension, format: format.rawValue, bytes: bytes)]
        return result
    }
}
