import Foundation

public enum ModelFormat: String, Sendable, Codable, CaseIterable {
    case onnx, safetensors

    /// By file extension; nil for anything else.
    public init?(path: String) {
        switch (path as NSString).pathExtension.lowercased() {
        case "onnx": self = .onnx
        case "safetensors": self = .safetensors
        default: return nil
        }
    }
}

/// A model read from disk: its graph (from ONNX, or inferred from a state_dict), the task
/// name (file name without extension) and what to keep on output.
public struct LoadedModel: Sendable {
    public var task: String
    public var format: ModelFormat
    public var graph: Graph
    /// safetensors `__metadata__`, written back unchanged.
    public var metadata: [String: String]
}

/// Reading and writing model files by extension.
public enum ModelFile {
    public struct Failure: Error, CustomStringConvertible {
        public var message: String
        /// The file is not there at all (as opposed to there but unreadable), for exit codes.
        public var isMissingFile = false
        public var description: String { message }
    }

    public static func load(_ url: URL) throws -> LoadedModel {
        guard let format = ModelFormat(path: url.path) else {
            throw Failure(message: "\(url.lastPathComponent): unknown model format (expected .onnx or .safetensors)")
        }
        return try load(url, format: format, task: url.deletingPathExtension().lastPathComponent)
    }

    public static func load(_ url: URL, format: ModelFormat, task: String) throws -> LoadedModel {
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw Failure(message: "\(url.path): no such file", isMissingFile: true)
        }
        do {
            switch format {
            case .onnx:
                return LoadedModel(task: task, format: .onnx, graph: try ONNXFile.read(contentsOf: url), metadata: [:])
            case .safetensors:
                let file = try SafeTensorsFile.read(contentsOf: url)
                let graph = try StateDictGraph.infer(tensors: file.tensors.map { ($0.name, $0.tensor) }, metadata: file.metadata)
                return LoadedModel(task: task, format: .safetensors, graph: graph, metadata: file.metadata)
            }
        } catch let error as Failure {
            throw error
        } catch {
            throw Failure(message: "\(url.lastPathComponent): \(error)")
        }
    }

    /// Writes atomically (a temp file renamed into place), so a failed write leaves no half file.
    public static func write(_ graph: Graph, format: ModelFormat, metadata: [String: String] = [:], to url: URL) throws {
        let data: Data
        switch format {
        case .onnx:
            data = try ONNXFile.write(graph)
        case .safetensors:
            data = try SafeTensorsFile(tensors: graph.orderedInitializers.map { .init($0.name, $0.tensor) }, metadata: metadata).serialized()
        }
        try data.write(to: url, options: .atomic)
    }
}
