import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Writes that survive a crash at any point: the old content or the new, never a mix.
enum DurableFile {
    struct Failure: Error, CustomStringConvertible {
        var operation: String
        var path: String
        var errno: Int32
        var description: String { "\(operation) \(path): \(String(cString: strerror(errno)))" }
    }

    /// Temp file in the same folder, write, fsync, rename over `url`, fsync the folder.
    static func write(_ data: Data, to url: URL) throws {
        let dir = url.deletingLastPathComponent().path
        let temp = "\(dir)/.\(url.lastPathComponent).\(UInt32.random(in: 0...UInt32.max)).tmp"
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw Failure(operation: "open", path: temp, errno: errno) }
        var ok = false
        defer {
            if !ok { unlink(temp) }
        }
        do {
            defer { close(fd) }
            try data.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count {
                    let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                    if n < 0 {
                        if errno == EINTR { continue }
                        throw Failure(operation: "write", path: temp, errno: errno)
                    }
                    offset += n
                }
            }
            guard fsync(fd) == 0 else { throw Failure(operation: "fsync", path: temp, errno: errno) }
        }
        guard rename(temp, url.path) == 0 else { throw Failure(operation: "rename", path: url.path, errno: errno) }
        ok = true
        try syncDirectory(dir)
    }

    /// Makes a rename or unlink inside `path` durable.
    static func syncDirectory(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw Failure(operation: "open", path: path, errno: errno) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw Failure(operation: "fsync", path: path, errno: errno) }
    }

    /// Renames a folder into place durably (both parents synced).
    static func move(_ from: URL, to: URL) throws {
        guard rename(from.path, to.path) == 0 else { throw Failure(operation: "rename", path: to.path, errno: errno) }
        try syncDirectory(to.deletingLastPathComponent().path)
        try syncDirectory(from.deletingLastPathComponent().path)
    }
}
