import Glibc
import HTTPServer
import Logging

/// Runs `body` against a server on 127.0.0.1 and a free port, then shuts it down.
func withServer(
    _ configure: (inout HTTPServer.Configuration) -> Void = { _ in },
    immediate: HTTPServer.ImmediateHandler? = nil,
    handler: @escaping HTTPServer.Handler,
    _ body: (HTTPServer, Int) async throws -> Void
) async throws {
    var config = HTTPServer.Configuration()
    config.host = "127.0.0.1"
    config.port = 0
    config.logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
    configure(&config)
    let server = HTTPServer(configuration: config, immediate: immediate, handler: handler)
    let port = try server.start()
    do {
        try await body(server, port)
    } catch {
        await server.shutdown(gracePeriod: .milliseconds(100))
        throw error
    }
    await server.shutdown(gracePeriod: .milliseconds(500))
}

/// Polls `condition` until it holds or `timeout` passes.
func eventually(timeout: Duration = .seconds(3), _ condition: () -> Bool) async -> Bool {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    while clock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return condition()
}

enum ProcFS {
    static func read(_ path: String) -> String {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return "" }
        defer { close(fd) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            out += chunk[0..<n]
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Targets of this process's open descriptors (from /proc/self/fd).
    static func openDescriptorTargets() -> [String] {
        guard let dir = opendir("/proc/self/fd") else { return [] }
        defer { closedir(dir) }
        var targets: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard name != ".", name != ".." else { continue }
            var target = [CChar](repeating: 0, count: 4096)
            let n = readlink("/proc/self/fd/" + name, &target, target.count - 1)
            if n > 0 { targets.append(String(decoding: target[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)) }
        }
        return targets
    }

    /// Socket inodes among this process's open descriptors.
    static func openSocketInodes() -> Set<String> {
        Set(openDescriptorTargets().compactMap { target in
            target.hasPrefix("socket:[") ? String(target.dropFirst(8).dropLast()) : nil
        })
    }

    /// The server side of the TCP connections on `port` that this process holds open:
    /// sockets from /proc/net/tcp{,6} whose local port is `port`, other than the listener,
    /// that are also in /proc/self/fd. Take it while the connections are up (a reset
    /// connection leaves the tables), then check those inodes leave /proc/self/fd. Tests
    /// running in parallel use other ports, so the set belongs to one server alone.
    static func serverSocketInodes(port: Int) -> Set<String> {
        var inodes = Set<String>()
        for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
            for line in read(table).split(separator: "\n").dropFirst() {
                let columns = line.split(separator: " ", omittingEmptySubsequences: true)
                guard columns.count > 9, let colon = columns[1].lastIndex(of: ":") else { continue }
                let localPort = Int(columns[1][columns[1].index(after: colon)...], radix: 16)
                if localPort == port && columns[3] != "0A" && columns[9] != "0" { inodes.insert(String(columns[9])) }
            }
        }
        return inodes.intersection(openSocketInodes())
    }
}
