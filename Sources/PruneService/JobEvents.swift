import Synchronization

/// Fan-out of job changes to whoever listens (the `/events` stream, metrics).
public final class JobEvents: Sendable {
    public typealias Listener = @Sendable (Job) -> Void
    private let listeners = Mutex<[Int: Listener]>([:])
    private let nextID = Mutex(0)

    public init() {}

    @discardableResult
    public func subscribe(_ listener: @escaping Listener) -> Int {
        let id = nextID.withLock { n in n += 1; return n }
        listeners.withLock { $0[id] = listener }
        return id
    }

    public func unsubscribe(_ id: Int) { listeners.withLock { _ = $0.removeValue(forKey: id) } }

    public func publish(_ job: Job) {
        for l in listeners.withLock({ Array($0.values) }) { l(job) }
    }
}
