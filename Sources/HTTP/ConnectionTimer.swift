/// Timeouts a connection is held to, in nanoseconds.
struct ConnectionTimeouts: Sendable {
    /// Keep-alive idle time between requests (and write stall time): close silently.
    var idle: Int64
    /// From the first byte of a request to its complete body: answer 408 and close.
    var request: Int64
    /// How long to keep reading (and discarding) after a final response before closing, so that the peer
    /// sees our response instead of a reset.
    var linger: Int64
}

/// The deadline state machine of one connection. Pure: every input carries the current time, so it is
/// tested with a fake clock and driven by the event loop with `CLOCK_MONOTONIC`.
struct ConnectionTimer: Equatable {
    enum Phase: Equatable {
        /// Waiting for the first byte of the next request.
        case idle(since: Int64)
        /// A request is arriving.
        case receiving(since: Int64)
        /// The responder has the request; it alone decides how long that takes.
        case processing
        /// A response is being written; `since` is the last progress.
        case writing(since: Int64)
        /// Final response sent, write side shut; draining input until the peer closes.
        case lingering(since: Int64)
    }

    enum Expiry: Equatable {
        /// Idle keep-alive connection, stalled writer or finished linger: close without a word.
        case close
        /// Request did not arrive in time: answer 408 and close.
        case requestTimeout
    }

    private(set) var phase: Phase

    init(now: Int64) {
        phase = .idle(since: now)
    }

    /// Bytes arrived. Starts the request clock if we were idle.
    mutating func received(at now: Int64) {
        if case .idle = phase { phase = .receiving(since: now) }
    }

    /// A complete request went to the responder.
    mutating func requestComplete() {
        phase = .processing
    }

    /// Response bytes were written (or queued) at `now`.
    mutating func wrote(at now: Int64) {
        switch phase {
        case .lingering: break
        default: phase = .writing(since: now)
        }
    }

    /// The response is fully written; the connection stays open. A pipelined request already buffered
    /// starts its clock at once.
    mutating func responseFinished(at now: Int64, nextRequestBuffered: Bool) {
        phase = nextRequestBuffered ? .receiving(since: now) : .idle(since: now)
    }

    mutating func lingering(at now: Int64) {
        phase = .lingering(since: now)
    }

    /// What to do at `now`, if a deadline has passed.
    func expiry(at now: Int64, timeouts: ConnectionTimeouts) -> Expiry? {
        switch phase {
        case .idle(let since): now - since >= timeouts.idle ? .close : nil
        case .receiving(let since): now - since >= timeouts.request ? .requestTimeout : nil
        case .processing: nil
        case .writing(let since): now - since >= timeouts.idle ? .close : nil
        case .lingering(let since): now - since >= timeouts.linger ? .close : nil
        }
    }
}
