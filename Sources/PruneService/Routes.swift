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
        let parts = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map(String.init)
        guard path.hasPrefix("/") else { return nil }
        for route in allCases {
            let pattern = route.rawValue.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map(String.init)
            guard pattern.count == parts.count else { continue }
            var params: [String: String] = [:]
            var ok = true
            for (p, v) in zip(pattern, parts) {
                if p.hasPrefix("{") {
                    guard !v.isEmpty, let decoded = HTTPRequestHead.percentDecoded(v) else { ok = false; break }
                    params[String(p.dropFirst().dropLast())] = decoded
                } else if p != v {
                    ok = false
                    break
                }
            }
            if ok { return (route, params) }
        }
        return nil
    }
}
