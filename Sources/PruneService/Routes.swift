import HTTPServer

/// The service's routes: one table, used to dispatch, to answer 405 with `Allow`, to label
/// metrics, and checked against `openapi.yaml` by a test.
public enum Route: String, CaseIterable, Sendable {
    case jobs = "/jobs"
    case job = "/jobs/{id}"
    case result = "/jobs/{id}/result"
    case artifact = "/jobs/{id}/artifacts/{name}"
    case healthz = "/healthz"
    case readyz = "/readyz"
    case metrics = "/metrics"

    public var methods: [HTTPMethod] {
        switch self {
        case .jobs: return [.get, .head, .post]
        case .job: return [.get, .head, .delete]
        case .result, .artifact, .healthz, .readyz, .metrics: return [.get, .head]
        }
    }

    /// The route a path belongs to and its parameters (`id`, `name`), or nil.
    public static func match(_ path: String) -> (route: Route, parameters: [String: String])? {
        find(path, decodingParameters: true)
    }

    /// The route a path belongs to, without decoding its parameters (for metrics labels).
    public static func of(_ path: String) -> Route? {
        find(path, decodingParameters: false)?.route
    }

    private enum Segment {
        case literal(String)
        case parameter(String)
    }

    private static let patterns: [(route: Route, segments: [Segment])] = allCases.map { route in
        let segments = route.rawValue.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map { p in
            p.hasPrefix("{") ? Segment.parameter(String(p.dropFirst().dropLast())) : .literal(String(p))
        }
        return (route, segments)
    }

    /// Compares bytes, not Characters: every request goes through here, and the patterns are ASCII.
    private static func find(_ path: String, decodingParameters: Bool) -> (route: Route, parameters: [String: String])? {
        guard path.utf8.first == UInt8(ascii: "/") else { return nil }
        let parts = path.utf8.dropFirst().split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        candidates: for (route, pattern) in patterns where pattern.count == parts.count {
            var found: [String: String] = [:]
            for (segment, part) in zip(pattern, parts) {
                switch segment {
                case .literal(let text):
                    guard part.elementsEqual(text.utf8) else { continue candidates }
                case .parameter(let name):
                    guard !part.isEmpty else { continue candidates }
                    if !part.contains(UInt8(ascii: "%")) {
                        if decodingParameters { found[name] = String(Substring(part)) }
                    } else if decodingParameters {
                        guard let decoded = HTTPRequestHead.percentDecoded(Substring(part)) else { continue candidates }
                        found[name] = decoded
                    } else {
                        guard HTTPRequestHead.percentDecoded(Substring(part)) != nil else { continue candidates }
                    }
                }
            }
            return (route, found)
        }
        return nil
    }
}
