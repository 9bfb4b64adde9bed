import CZlib

/// Streaming deflate with the gzip wrapper (RFC 1952), through zlib. Input goes in as it
/// comes; output comes out as zlib produces it, so a file of any size is compressed in
/// bounded memory. Not thread-safe: one deflater belongs to one response.
public final class GzipDeflater {
    public enum Flush {
        /// Let zlib buffer for the best compression.
        case none
        /// Emit everything so far (used per write of a stream, so events reach the client).
        case sync
        /// End the gzip member: trailer with CRC-32 and length.
        case finish
    }

    private let stream: UnsafeMutablePointer<z_stream>
    private var finished = false

    /// `level` 1 (fast) to 9 (small); 6 is zlib's default balance.
    public init(level: Int32 = 6) {
        // zlib keeps a pointer back to the z_stream, so it must not move: allocate it.
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        // windowBits 15 + 16 selects the gzip wrapper; memLevel 8 is zlib's default.
        let status = czlib_deflateInit2(stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY)
        precondition(status == Z_OK, "deflateInit2 failed: \(status)")
    }

    deinit {
        deflateEnd(stream)
        stream.deinitialize(count: 1)
        stream.deallocate()
    }

    /// Compresses `input` and returns whatever output zlib releases.
    public func compress(_ input: [UInt8], flush: Flush = .none) -> [UInt8] {
        precondition(!finished, "the gzip stream has already been finished")
        var output: [UInt8] = []
        let mode: Int32
        switch flush {
        case .none: mode = Z_NO_FLUSH
        case .sync: mode = Z_SYNC_FLUSH
        case .finish: mode = Z_FINISH
        }
        var chunk = [UInt8](repeating: 0, count: max(16 * 1024, input.count / 2 + 64))
        input.withUnsafeBufferPointer { inBuf in
            stream.pointee.next_in = inBuf.baseAddress
            stream.pointee.avail_in = UInt32(inBuf.count)
            while true {
                let (status, produced) = chunk.withUnsafeMutableBufferPointer { outBuf in
                    stream.pointee.next_out = outBuf.baseAddress
                    stream.pointee.avail_out = UInt32(outBuf.count)
                    let status = deflate(stream, mode)
                    return (status, outBuf.count - Int(stream.pointee.avail_out))
                }
                output.append(contentsOf: chunk[0..<produced])
                // Z_BUF_ERROR only means no progress was possible, which ends the loop below.
                precondition(status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR, "deflate failed: \(status)")
                if status == Z_STREAM_END { break }
                // Done once zlib had room to spare: all input consumed and all output flushed.
                if stream.pointee.avail_out != 0 && stream.pointee.avail_in == 0 && mode != Z_FINISH { break }
                if status == Z_BUF_ERROR { break }
            }
            stream.pointee.next_in = nil
        }
        if flush == .finish { finished = true }
        return output
    }

    /// The whole of `bytes` as one gzip member.
    public static func gzip(_ bytes: [UInt8], level: Int32 = 6) -> [UInt8] {
        GzipDeflater(level: level).compress(bytes, flush: .finish)
    }
}
