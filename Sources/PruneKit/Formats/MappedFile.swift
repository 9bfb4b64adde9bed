import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A whole file mapped into memory, so that large model files are read without copying.
///
/// Why not `Data(contentsOf:options: .alwaysMapped)`: Foundation maps the file read-only, and
/// on Linux writing into such a `Data` once it is uniquely referenced (say, a tensor whose
/// bytes are updated in place after the file's `Data` went away) faults. This mapping is
/// private and writable: pages stay backed by the file until written, a write copies just that
/// page, and the file never changes.
final class MappedFile: @unchecked Sendable {
    // @unchecked: `base` and `count` never change after init, and the memory is only freed in
    // deinit, when no `Data` made by `bytes(_:)` can still point into it.
    private let base: UnsafeMutableRawPointer?
    let count: Int

    enum Failure: Error, CustomStringConvertible {
        case open(path: String, errno: Int32)
        case map(path: String, errno: Int32)
        /// A pipe or a device: there is nothing to map; read it instead.
        case notRegularFile

        var description: String {
            switch self {
            case let .open(path, e): return "cannot open \(path): \(String(cString: strerror(e)))"
            case let .map(path, e): return "cannot map \(path) into memory: \(String(cString: strerror(e)))"
            case .notRegularFile: return "not a regular file"
            }
        }
    }

    init(path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Failure.open(path: path, errno: errno) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw Failure.open(path: path, errno: errno) }
        guard st.st_mode & S_IFMT == S_IFREG else { throw Failure.notRegularFile }
        count = Int(st.st_size)
        guard count > 0 else {
            base = nil
            return
        }
        let p = mmap(nil, count, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0)
        guard let p, p != MAP_FAILED else { throw Failure.map(path: path, errno: errno) }
        base = p
    }

    /// `mapped` with the file mapped, or `unmapped` with its contents read into memory when it
    /// is not a regular file.
    static func withFile<R>(at url: URL, mapped: (MappedFile) throws -> R, unmapped: (Data) throws -> R) throws -> R {
        let file: MappedFile
        do {
            file = try MappedFile(path: url.path(percentEncoded: false))
        } catch Failure.notRegularFile {
            // Not Data(contentsOf:), which refuses devices.
            let handle = try FileHandle(forReadingFrom: url)
            defer { try? handle.close() }
            return try unmapped(handle.readToEnd() ?? Data())
        }
        return try mapped(file)
    }

    deinit {
        if let base { munmap(base, count) }
    }

    /// The bytes in `range` as a zero-based `Data` that shares the mapping and keeps it alive.
    /// Ranges handed out must not overlap, since each `Data` may write its bytes in place.
    func bytes(_ range: Range<Int>) -> Data {
        precondition(range.lowerBound >= 0 && range.upperBound <= count)
        guard let base, !range.isEmpty else { return Data() }
        return Data(bytesNoCopy: base + range.lowerBound, count: range.count,
                    deallocator: .custom { _, _ in withExtendedLifetime(self) {} })
    }

    /// Calls `body` with the whole file as a `Data` that must not escape it.
    func withContents<R>(_ body: (Data) throws -> R) rethrows -> R {
        guard let base else { return try body(Data()) }
        let view = Data(bytesNoCopy: base, count: count, deallocator: .none)
        return try withExtendedLifetime(self) { try body(view) }
    }
}
