import Dispatch
import Synchronization

extension HTTPConnection {
    /// Derives read interest and the timer deadline from the state; called after every change.
    func updateInterest() {
        guard registered else { return }
        if case .closed = phase { return }
        let wantRead = wantsInput
        if wantRead != readInterest {
            // Level-triggered: input that arrived meanwhile is reported once interest is back.
            readInterest = wantRead
            poller.modify(self, read: readInterest, write: writeInterest)
        }
        // No timer per connection: re-arming one on every request wakes libdispatch's manager
        // thread each time. The server's sweep (`TimeoutSweep`) reads this instead.
        publishedDeadline.store(currentDeadline()?.at.uptimeNanoseconds ?? .max, ordering: .relaxed)
    }

    func currentDeadline() -> (at: DispatchTime, kind: Deadline)? {
        switch phase {
        case .closed:
            return nil
        case .lingering(let until):
            return (until, .linger)
        case .open:
            if writeInterest { return (lastWriteProgress + timeouts.write.dispatchInterval, .write) }
            if let exchange {
                let waitingForBody = !exchange.requestComplete && !exchange.stopReading && readInterest
                    && !exchange.continuePending
                return waitingForBody ? (lastBodyProgress + timeouts.body.dispatchInterval, .body) : nil
            }
            if let headerStartedAt { return (headerStartedAt + timeouts.header.dispatchInterval, .header) }
            // A new connection must send its first request within the header timeout.
            let wait = exchangeCount == 0 ? timeouts.header : timeouts.idle
            return (idleSince + wait.dispatchInterval, .idle)
        }
    }

    /// Called by the sweep, on `queue`, once the published deadline has passed.
    func deadlinePassed() {
        guard let (deadline, kind) = currentDeadline() else { return }
        guard DispatchTime.now() >= deadline else {
            updateInterest()
            return
        }
        switch kind {
        case .idle, .write, .linger:
            closeNow()
        case .header:
            respondAsServer(.requestTimeout)
        case .body:
            exchange?.body.fail(HTTPError.requestTimeout)
            respondAsServer(.requestTimeout)
        }
        updateInterest()
    }
}
