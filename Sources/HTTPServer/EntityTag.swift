import Dispatch
import Synchronization

/// Strong entity tags from the SHA-256 of a file's content (RFC 9110 §8.8.3), and the
/// comparisons the conditional request fields need (§8.8.3.2, §13.1).
public enum EntityTag {
    /// `"<hex sha-256>"` of the file's bytes. The digest is computed on a dedicated queue
    /// (never on a Swift concurrency thread) and cached per device, inode, size and mtime.
    public static func strong(for file: HTTPFile) async throws -> String {
        "\"" + SHA256.hex(try await digest(of: file)) + "\""
    }

    /// The SHA-256 of a file's content, cached as for `strong(for:)`.
    public static func digest(of file: HTTPFile) async throws -> [UInt8] {
        if let cached = cache.withLock({ $0.entries[file.identity] }) { return cached }
        let digest: [UInt8] = try await withCheckedThrowingContinuation { continuation in
            hashingQueue.async {
                do {
                    let hasher = SHA256()
                    var offset: Int64 = 0
                    while offset < file.size {
                        let block = try file.read(at: offset, count: Int(min(1 << 20, file.size - offset)))
                        if block.isEmpty { break }
                        hasher.update(block)
                        offset += Int64(block.count)
                    }
                    continuation.resume(returning: hasher.finalize())
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
        cache.withLock { c in
            if c.entries.count >= 1024, let victim = c.order.first {
                c.entries[victim] = nil
                c.order.removeFirst()
            }
            if c.entries.updateValue(digest, forKey: file.identity) == nil { c.order.append(file.identity) }
        }
        return digest
    }

    /// The tag of the gzip-coded representation: a different representation needs a
    /// different strong tag (RFC 9110 §8.8.3).
    public static func gzipVariant(of tag: String) -> String {
        guard tag.hasSuffix("\""), !tag.hasPrefix("W/") else { return tag }
        return String(tag.dropLast()) + "-gzip\""
    }

    /// If-None-Match: weak comparison against any listed tag, or `*` (RFC 9110 §13.1.2).
    public static func noneMatchHits(_ field: String, current tags: [String]) -> Bool {
        let listed = parseList(field)
        if listed.contains("*") { return true }
        let opaque = Set(tags.map(weakOpaque))
        return listed.contains { opaque.contains(weakOpaque($0)) }
    }

    /// If-Match and If-Range: strong comparison, so weak tags never match (RFC 9110 §13.1.1).
    public static func strongMatch(_ field: String, current tag: String) -> Bool {
        let listed = parseList(field)
        if listed.contains("*") { return true }
        return !tag.hasPrefix("W/") && listed.contains { !$0.hasPrefix("W/") && $0 == tag }
    }

    /// entity-tags may contain commas only inside quotes; split on the commas between them.
    static func parseList(_ field: String) -> [String] {
        var tags: [String] = []
        var current = ""
        var quoted = false
        for ch in field {
            if ch == "\"" { quoted.toggle() }
            if ch == "," && !quoted {
                let t = current.trimmingOWS()
                if !t.isEmpty { tags.append(String(t)) }
                current = ""
            } else {
                current.append(ch)
            }
        }
        let t = current.trimmingOWS()
        if !t.isEmpty { tags.append(String(t)) }
        return tags
    }

    static func weakOpaque(_ tag: String) -> Substring {
        tag.hasPrefix("W/") ? tag.dropFirst(2) : Substring(tag)
    }

    private struct Cache {
        var entries: [HTTPFile.Identity: [UInt8]] = [:]
        var order: [HTTPFile.Identity] = []
    }
    private static let cache = Mutex(Cache())
    private static let hashingQueue = DispatchQueue(label: "pruned.http.digest", qos: .utility, attributes: .concurrent)
}
