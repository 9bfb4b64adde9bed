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

    /// Throws unless the graph is the network as exported. A state_dict's graph is the layer
    /// chain its names and widths give: enough to find the channel groups and prune, but the
    /// padding, strides, activations and pooling between the layers are not in the file, so
    /// running it would score, recalibrate or train another network. `use` says what the run
    /// wanted to do with it ("trained").
    public func requireForwardPass(for use: String) throws(ModelFile.Failure) {
        guard format == .safetensors else { return }
        throw ModelFile.Failure(message: "\(task).safetensors: a state_dict has no forward pass (its padding, strides, activations and "
            + "pooling are not in the file), so it cannot be \(use); \(StateDictGraph.askForONNX)")
    }
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
