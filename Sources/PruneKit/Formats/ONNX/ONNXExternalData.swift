import Foundation

/// Tensor bytes an ONNX model keeps in side files (`data_location = EXTERNAL`), as PyTorch's
/// exporter writes for models from about 2 GB (and by default in recent versions).
///
/// Each tensor names a `location` relative to the model file, an `offset` and a `length`. The
/// location must stay inside the model's directory: no absolute paths and no `..`, so that a
/// model handed to the service cannot make it read arbitrary files. Side files are mapped once
/// each, and a tensor's bytes share the mapping unless they overlap bytes already handed out
/// (a mapped `Data` may be written in place, so overlapping views would alias).
final class ONNXExternalData {
    let directory: URL
    private var files: [String: MappedFile] = [:]
    private var handedOut: [String: [Range<Int>]] = [:]

    init(directory: URL) {
        self.directory = directory
    }

    func bytes(_ entries: [Onnx_StringStringEntryProto], tensor label: String, expectedBytes: Int) throws -> Data {
        func fail(_ reason: String) -> ONNXError { .badExternalData(tensor: label, reason: reason) }
        var fields: [String: String] = [:]
        for e in entries { fields[e.key] = e.value }
        guard let location = fields["location"], !location.isEmpty else { throw fail("no 'location' key") }
        let components = location.split(separator: "/", omittingEmptySubsequences: false)
        guard !location.hasPrefix("/"), !location.contains("\\"), !components.contains(".."), !components.contains("") else {
            throw fail("location '\(location)' must be a plain relative path inside the model's directory")
        }
        func number(_ key: String) throws -> Int? {
            guard let text = fields[key] else { return nil }
            guard let n = Int(text), n >= 0 else { throw fail("'\(key)' is '\(text)', not a non-negative integer") }
            return n
        }
        let offset = try number("offset") ?? 0
        let length = try number("length") ?? expectedBytes
        guard length == expectedBytes else {
            throw fail("'length' is \(length) bytes, but its dtype and shape need \(expectedBytes)")
        }

        let file = try mapped(location, label: label)
        guard offset <= file.count, length <= file.count - offset else {
            throw fail("bytes \(offset)..<\(offset + length) lie beyond the end of '\(location)' (\(file.count) bytes)")
        }
        let range = offset..<(offset + length)
        let overlaps = handedOut[location, default: []].contains { $0.overlaps(range) }
        handedOut[location, default: []].append(range)
        let view = file.bytes(range)
        return overlaps ? Data(view) : view
    }

    private func mapped(_ location: String, label: String) throws -> MappedFile {
        if let file = files[location] { return file }
        let url = directory.appending(path: location)
        do {
            let file = try MappedFile(path: url.path(percentEncoded: false))
            files[location] = file
            return file
        } catch {
            throw ONNXError.badExternalData(tensor: label, reason: "cannot read its data file '\(location)': \(error)")
        }
    }
}
