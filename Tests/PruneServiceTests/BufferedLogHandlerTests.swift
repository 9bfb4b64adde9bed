import Glibc
import Logging
import Testing
@testable import PruneService

@Suite struct BufferedLogHandlerTests {
    @Test func linesKeepStreamLogHandlersFormatAndOrder() throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]) }
        let sink = LogSink(fd: fds[1], delay: .seconds(60))
        var logger = Logger(label: "test") { BufferedLogHandler(label: $0, sink: sink, metadataProvider: nil) }
        logger[metadataKey: "remote"] = "1.2.3.4:5"
        logger.info("request", metadata: ["status": "200", "path": "/jobs"])
        logger.debug("not shown")
        // A warning writes what is buffered, in order, before returning.
        logger.warning("careful")
        close(fds[1])
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fds[0], $0.baseAddress, $0.count) }
            if n <= 0 { break }
            out += chunk[..<n]
        }
        let lines = String(decoding: out, as: UTF8.self).split(separator: "\n").map(String.init)
        #expect(lines.count == 2)
        #expect(lines.first?.hasSuffix(" info test: path=/jobs remote=1.2.3.4:5 status=200 [PruneServiceTests] request") == true)
        #expect(lines.last?.hasSuffix(" warning test: remote=1.2.3.4:5 [PruneServiceTests] careful") == true)
        // StreamLogHandler's timestamp: 2026-01-02T03:04:05+0000
        #expect(lines.first?.split(separator: " ").first?.count == 24)
    }
}
