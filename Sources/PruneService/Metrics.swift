import Synchronization

/// Counters for `/metrics`, in the Prometheus text exposition format (version 0.0.4).
public final class Metrics: Sendable {
    static let latencyBuckets: [Double] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

    private struct State {
        var requests: [String: Int] = [:]  // "route|method|status"
        var latencyCounts = Array(repeating: 0, count: Metrics.latencyBuckets.count)
        var latencySum = 0.0
        var latencyTotal = 0
        var bytesIn: Int64 = 0
        var bytesOut: Int64 = 0
    }
    private let state = Mutex(State())

    public init() {}

    public func record(route: String, method: String, status: Int, seconds: Double, bytesIn: Int64, bytesOut: Int64) {
        state.withLock { s in
            s.requests["\(route)|\(method)|\(status)", default: 0] += 1
            for (i, le) in Self.latencyBuckets.enumerated() where seconds <= le { s.latencyCounts[i] += 1 }
            s.latencySum += seconds
            s.latencyTotal += 1
            s.bytesIn += bytesIn
            s.bytesOut += bytesOut
        }
    }

    public func render(jobs: [Job.Status: Int], queueLength: Int, running: Int) -> String {
        let s = state.withLock { $0 }
        var out: [String] = []
        out.append("# HELP pruned_http_requests_total HTTP requests by route, method and status.")
        out.append("# TYPE pruned_http_requests_total counter")
        for (key, n) in s.requests.sorted(by: { $0.key < $1.key }) {
            let p = key.split(separator: "|", omittingEmptySubsequences: false)
            out.append("pruned_http_requests_total{route=\"\(Self.escape(String(p[0])))\",method=\"\(p[1])\",status=\"\(p[2])\"} \(n)")
        }
        out.append("# HELP pruned_http_request_duration_seconds Time from request head to the end of the response.")
        out.append("# TYPE pruned_http_request_duration_seconds histogram")
        for (i, le) in Self.latencyBuckets.enumerated() {
            out.append("pruned_http_request_duration_seconds_bucket{le=\"\(le)\"} \(s.latencyCounts[i])")
        }
        out.append("pruned_http_request_duration_seconds_bucket{le=\"+Inf\"} \(s.latencyTotal)")
        out.append("pruned_http_request_duration_seconds_sum \(s.latencySum)")
        out.append("pruned_http_request_duration_seconds_count \(s.latencyTotal)")
        out.append("# HELP pruned_http_received_bytes_total Request bytes received.")
        out.append("# TYPE pruned_http_received_bytes_total counter")
        out.append("pruned_http_received_bytes_total \(s.bytesIn)")
        out.append("# HELP pruned_http_sent_bytes_total Response bytes sent.")
        out.append("# TYPE pruned_http_sent_bytes_total counter")
        out.append("pruned_http_sent_bytes_total \(s.bytesOut)")
        out.append("# HELP pruned_jobs Jobs by state.")
        out.append("# TYPE pruned_jobs gauge")
        for status in Job.Status.allCases { out.append("pruned_jobs{state=\"\(status.rawValue)\"} \(jobs[status] ?? 0)") }
        out.append("# HELP pruned_queue_length Jobs waiting for a worker.")
        out.append("# TYPE pruned_queue_length gauge")
        out.append("pruned_queue_length \(queueLength)")
        out.append("# HELP pruned_jobs_running Jobs a worker is running now.")
        out.append("# TYPE pruned_jobs_running gauge")
        out.append("pruned_jobs_running \(running)")
        return out.joined(separator: "\n") + "\n"
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
    }
}
