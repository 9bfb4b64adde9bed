#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The socket calls the server makes, each through `syscall`.
enum Socket {
    /// A non-blocking, close-on-exec listening socket. `host` "::" (or "") binds the IPv6 any
    /// address with IPV6_V6ONLY off, so IPv4 clients arrive as v4-mapped addresses; where
    /// IPv6 is unavailable it falls back to IPv4 any. Returns the descriptor and bound port.
    static func listen(host: String, port: Int, backlog: Int32) throws(SystemError) -> (fd: Int32, port: Int) {
        guard (0...65535).contains(port) else { throw SystemError("listen: port \(port)", errno: EINVAL) }
        if host.isEmpty || host == "::" {
            do {
                var address = sockaddr_in6()
                address.sin6_family = sa_family_t(AF_INET6)
                address.sin6_port = in_port_t(UInt16(port).bigEndian)
                address.sin6_addr = in6addr_any
                return try withUnsafeBytes(of: &address) { (raw) throws(SystemError) in
                    try bindAndListen(family: AF_INET6, address: raw, backlog: backlog)
                }
            } catch where error.errno == EAFNOSUPPORT {
                return try listen(host: "0.0.0.0", port: port, backlog: backlog)
            }
        }
        var hints = addrinfo()
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_family = AF_UNSPEC
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list else {
            throw SystemError("getaddrinfo(\(host)): \(String(cString: gai_strerror(status)))", errno: EADDRNOTAVAIL)
        }
        defer { freeaddrinfo(list) }
        let raw = UnsafeRawBufferPointer(start: first.pointee.ai_addr, count: Int(first.pointee.ai_addrlen))
        return try bindAndListen(family: first.pointee.ai_family, address: raw, backlog: backlog)
    }

    private static func bindAndListen(
        family: Int32, address: UnsafeRawBufferPointer, backlog: Int32
    ) throws(SystemError) -> (fd: Int32, port: Int) {
        let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        let fd = try syscall("socket") { Glibc.socket(family, type, 0) }
        do {
            try setOption(fd, SOL_SOCKET, SO_REUSEADDR, 1)
            if family == AF_INET6 { try setOption(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, 0) }
            try syscall("bind") {
                Glibc.bind(fd, address.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t(address.count))
            }
            try syscall("listen") { Glibc.listen(fd, backlog) }
            return (fd, try boundPort(fd))
        } catch {
            // Not yet registered with any dispatch source, so closing here is safe.
            _ = Glibc.close(fd)
            throw error
        }
    }

    static func setOption(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: Int32) throws(SystemError) {
        var v = value
        try syscall("setsockopt") { setsockopt(fd, level, name, &v, socklen_t(MemoryLayout<Int32>.size)) }
    }

    static func boundPort(_ fd: Int32) throws(SystemError) -> Int {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        try withUnsafeMutablePointer(to: &storage) { (p) throws(SystemError) in
            try p.withMemoryRebound(to: sockaddr.self, capacity: 1) { (sa) throws(SystemError) in
                _ = try syscall("getsockname") { getsockname(fd, sa, &length) }
            }
        }
        return describe(storage).port
    }

    /// Host and port of a socket address; v4-mapped IPv6 addresses are shown as IPv4.
    static func describe(_ storage: sockaddr_storage) -> (host: String, port: Int) {
        let family = Int32(storage.ss_family)
        return withUnsafeBytes(of: storage) { raw -> (String, Int) in
            var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
            func string() -> String {
                String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            }
            switch family {
            case AF_INET:
                var a = raw.load(as: sockaddr_in.self)
                inet_ntop(AF_INET, &a.sin_addr, &text, socklen_t(text.count))
                return (string(), Int(UInt16(bigEndian: a.sin_port)))
            case AF_INET6:
                var a = raw.load(as: sockaddr_in6.self)
                let port = Int(UInt16(bigEndian: a.sin6_port))
                let bytes = withUnsafeBytes(of: &a.sin6_addr) { Array($0) }
                if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF {
                    return (bytes[12...].map(String.init).joined(separator: "."), port)
                }
                inet_ntop(AF_INET6, &a.sin6_addr, &text, socklen_t(text.count))
                return ("[" + string() + "]", port)
            default:
                return ("unknown", 0)
            }
        }
    }
}
