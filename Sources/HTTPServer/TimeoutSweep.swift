import Dispatch
import Synchronization

/// Enforces every connection's timeouts with one coarse repeating timer per server.
///
/// Each connection publishes its next deadline (`HTTPConnection.publishedDeadline`) whenever
/// its state changes; the sweep reads them and tells the connections whose deadline has
/// passed, on their own queues, which then check it themselves. A timeout therefore fires at
/// most one `interval` (plus leeway) late and never early. A timer per connection, re-armed
/// on every request, would cost a wake-up of libdispatch's manager thread per request.
final class TimeoutSweep: @unchecked Sendable {
    let interval: DispatchTimeInterval
    private let queue = DispatchQueue(label: "pruned.http.timeouts", qos: .utility)
    private let source: DispatchSourceTimer
    private let state = Mutex((started: false, stopped: false))

    /// A quarter of the shortest timeout, so that short test timeouts stay accurate, and at
    /// most 250 ms.
    init(timeouts: HTTPServer.Timeouts) {
        let shortest = [timeouts.header, timeouts.idle, timeouts.body, timeouts.write, timeouts.linger].min()!
        let quarter = shortest / 4
        let chosen = min(max(quarter, .milliseconds(10)), .milliseconds(250))
        interval = chosen.dispatchInterval
        source = DispatchSource.makeTimerSource(queue: queue)
    }

    /// Holds `context` weakly: a server dropped without `shutdown` should not live on.
    func start(context: ServerContext) {
        let go = state.withLock { s -> Bool in
            defer { s.started = true }
            return !s.started && !s.stopped
        }
        guard go else { return }
        source.setEventHandler { @Sendable [weak context] in
            guard let context else { return }
            for connection in context.connections(dueBy: DispatchTime.now().uptimeNanoseconds) {
                connection.queue.async { @Sendable in connection.deadlinePassed() }
            }
        }
        source.schedule(deadline: .now() + interval, repeating: interval, leeway: .milliseconds(5))
        source.resume()
    }

    deinit { stop() }

    func stop() {
        let wasRunning = state.withLock { s -> Bool in
            defer { s.stopped = true }
            return s.started && !s.stopped
        }
        if wasRunning { source.cancel() }
    }
}
