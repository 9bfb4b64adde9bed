import Foundation
import HTTPServer

/// `result.tar.gz`: every artifact of a job in one download. A POSIX ustar archive
/// (IEEE 1003.1-1988) streamed through gzip, a megabyte at a time, so that a large model
/// is never held in memory whole.
enum ResultBundle {
    static let fileName = "result.tar.gz"

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func write(files: [String], from directory: URL, to destination: URL, mtime: Date = Date()) throws {
        let temp = destination.deletingLastPathComponent().appendingPathComponent(".\(destination.lastPathComponent).tmp")
        _ = FileManager.default.createFile(atPath: temp.path, contents: nil)
        let out = try FileHandle(forWritingTo: temp)
        let gzip = GzipDeflater(level: 6)
        do {
            for name in files {
                let url = directory.appendingPathComponent(name)
                let size = (try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? NSNumber)?.intValue ?? 0
                try out.write(contentsOf: gzip.compress(try header(name: name, size: size, mtime: mtime)))
                let input = try FileHandle(forReadingFrom: url)
                defer { try? input.close() }
                var written = 0
                while let chunk = try input.read(upToCount: 1 << 20), !chunk.isEmpty {
                    written += chunk.count
                    try out.write(contentsOf: gzip.compress([UInt8](chunk)))
                }
                guard written == size else { throw Failure(description: "\(name) changed size while being archived") }
                let padding = (512 - size % 512) % 512
                if padding > 0 { try out.write(contentsOf: gzip.compress([UInt8](repeating: 0, count: padding))) }
            }
            // Two zero blocks end the archive.
            try out.write(contentsOf: gzip.compress([UInt8](repeating: 0, count: 1024), flush: .finish))
            try out.synchronize()
            try out.close()
            try DurableFile.move(temp, to: destination)
        } catch {
            try? out.close()
            try? FileManager.default.removeItem(at: temp)
            throw error
        }
    }

    /// One ustar header block.
    static func header(name: String, size: Int, mtime: Date) throws -> [UInt8] {
        let nameBytes = Array(name.utf8)
        guard nameBytes.count <= 100 else { throw Failure(description: "artifact name '\(name)' is longer than 100 bytes") }
        var block = [UInt8](repeating: 0, count: 512)
        func put(_ bytes: [UInt8], at offset: Int) { for (i, b) in bytes.enumerated() { block[offset + i] = b } }
        func octal(_ value: Int, width: Int) -> [UInt8] {
            let digits = String(value, radix: 8)
            return Array((String(repeating: "0", count: max(0, width - 1 - digits.count)) + digits).utf8) + [0]
        }
        put(nameBytes, at: 0)
        put(octal(0o644, width: 8), at: 100)
        put(octal(0, width: 8), at: 108)
        put(octal(0, width: 8), at: 116)
        put(octal(size, width: 12), at: 124)
        put(octal(Int(mtime.timeIntervalSince1970), width: 12), at: 136)
        block[156] = UInt8(ascii: "0")
        put(Array("ustar".utf8) + [0], at: 257)
        put(Array("00".utf8), at: 263)
        put(Array("pruned".utf8), at: 265)
        put(Array("pruned".utf8), at: 297)
        // The checksum is computed with its own field as eight spaces.
        put([UInt8](repeating: 0x20, count: 8), at: 148)
        let sum = block.reduce(0) { $0 + Int($1) }
        put(octal(sum, width: 7) + [0x20], at: 148)
        return block
    }
}
