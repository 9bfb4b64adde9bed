#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// An open regular file to send as a response body. The descriptor is opened once and read
/// with positional reads (`pread`, `sendfile` with an offset), so one `HTTPFile` can serve any
/// number of responses at once; it is closed when the last of them lets go of it.
public final class HTTPFile: Sendable {
    public let path: String
    public let size: Int64
    /// Identity of the file's current contents, for caching its digest.
    let identity: Identity
    let descriptor: Int32

    struct Identity: Hashable, Sendable {
        var device: UInt64
        var inode: UInt64
        var size: Int64
        var modifiedSeconds: Int
        var modifiedNanoseconds: Int
    }

    /// Opens `path` for reading. A missing file or a directory is a 404, an unreadable one 403.
    public init(path: String) throws(HTTPError) {
        let fd: Int32
        do {
            fd = try syscall("open") { open(path, O_RDONLY | O_CLOEXEC) }
        } catch {
            switch error.errno {
            case ENOENT, ENOTDIR, ENAMETOOLONG: throw .notFound()
            case EACCES, EPERM: throw HTTPError(.forbidden, code: "forbidden", message: "the file is not readable")
            default: throw .internalError
            }
        }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            _ = close(fd)
            throw .notFound()
        }
        self.path = path
        self.descriptor = fd
        self.size = Int64(info.st_size)
        self.identity = Identity(
            device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int64(info.st_size),
            modifiedSeconds: Int(info.st_mtim.tv_sec), modifiedNanoseconds: Int(info.st_mtim.tv_nsec))
    }

    deinit {
        _ = close(descriptor)
    }

    /// Reads up to `count` bytes at `offset`; fewer only at the end of the file.
    func read(at offset: Int64, count: Int) throws(SystemError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let n = try bytes.withUnsafeMutableBytes { raw in
                Result { () throws(SystemError) in
                    try syscall("pread") { pread(descriptor, raw.baseAddress! + filled, count - filled, off_t(offset) + off_t(filled)) }
                }
            }.get()
            if n == 0 { break }
            filled += n
        }
        bytes.removeLast(count - filled)
        return bytes
    }
}
