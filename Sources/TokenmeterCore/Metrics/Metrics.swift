import Foundation
import Synchronization

/// A small Prometheus-style registry: counters, gauges and histograms keyed by name and labels,
/// rendered in the text exposition format by `/metrics`. Thread-safe; cheap enough for hot paths.
public final class Metrics: Sendable {
    private struct Key: Hashable { let name: String; let labels: String }
    private struct Histogram { var buckets: [Double]; var counts: [Int]; var sum: Double; var count: Int }
    private struct State {
        var counters: [Key: Double] = [:]
        var gauges: [Key: Double] = [:]
        var histograms: [Key: Histogram] = [:]
        var help: [String: (type: String, text: String)] = [:]
    }
    private let state = Mutex(State())
    private let gaugeProviders = Mutex<[(name: String, help: String, type: String, read: @Sendable () -> Double)]>([])

    public init() {}

    public func increment(_ name: String, by value: Double = 1, labels: [(String, String)] = [], help: String = "") {
        let key = Key(name: name, labels: Metrics.render(labels))
        state.withLock { s in
            s.counters[key, default: 0] += value
            if s.help[name] == nil { s.help[name] = ("counter", help) }
        }
    }

    public func set(_ name: String, _ value: Double, labels: [(String, String)] = [], help: String = "") {
        let key = Key(name: name, labels: Metrics.render(labels))
        state.withLock { s in
            s.gauges[key] = value
            if s.help[name] == nil { s.help[name] = ("gauge", help) }
        }
    }

    /// A gauge read at scrape time (queue depth, open connections, RSS).
    public func gauge(_ name: String, help: String, _ read: @escaping @Sendable () -> Double) {
        gaugeProviders.withLock { $0.append((name, help, "gauge", read)) }
    }

    /// A counter kept elsewhere (an atomic another module owns), read at scrape time.
    public func counter(_ name: String, help: String, _ read: @escaping @Sendable () -> Double) {
        gaugeProviders.withLock { $0.append((name, help, "counter", read)) }
    }

    public static let latencyBuckets: [Double] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    public func observe(_ name: String, _ value: Double, labels: [(String, String)] = [], buckets: [Double] = Metrics.latencyBuckets, help: String = "") {
        let key = Key(name: name, labels: Metrics.render(labels))
        state.withLock { s in
            var h = s.histograms[key] ?? Histogram(buckets: buckets, counts: Array(repeating: 0, count: buckets.count), sum: 0, count: 0)
            for (i, bound) in h.buckets.enumerated() where value <= bound { h.counts[i] += 1 }
            h.sum += value
            h.count += 1
            s.histograms[key] = h
            if s.help[name] == nil { s.help[name] = ("histogram", help) }
        }
    }

    public func counterValue(_ name: String, labels: [(String, String)] = []) -> Double {
        state.withLock { $0.counters[Key(name: name, labels: Metrics.render(labels))] ?? 0 }
    }

    /// Prometheus text exposition format 0.0.4.
    public func render() -> String {
        var out = ""
        let snapshot = state.withLock { $0 }
        var byName: [String: [String]] = [:]
        for (key, value) in snapshot.counters { byName[key.name, default: []].append("\(key.name)\(key.labels) \(Metrics.format(value))") }
        for (key, value) in snapshot.gauges { byName[key.name, default: []].append("\(key.name)\(key.labels) \(Metrics.format(value))") }
        for (key, h) in snapshot.histograms {
            var lines: [String] = []
            let inner = key.labels.isEmpty ? "" : String(key.labels.dropFirst().dropLast()) + ","
            for (i, bound) in h.buckets.enumerated() {
                lines.append("\(key.name)_bucket{\(inner)le=\"\(Metrics.format(bound))\"} \(h.counts[i])")
            }
            lines.append("\(key.name)_bucket{\(inner)le=\"+Inf\"} \(h.count)")
            lines.append("\(key.name)_sum\(key.labels) \(Metrics.format(h.sum))")
            lines.append("\(key.name)_count\(key.labels) \(h.count)")
            byName[key.name, default: []].append(contentsOf: lines)
        }
        for name in byName.keys.sorted() {
            if let help = snapshot.help[name] {
                if !help.text.isEmpty { out += "# HELP \(name) \(help.text)\n" }
                out += "# TYPE \(name) \(help.type)\n"
            }
            for line in byName[name]!.sorted() { out += line + "\n" }
        }
        for provider in gaugeProviders.withLock({ $0 }) {
            out += "# HELP \(provider.name) \(provider.help)\n# TYPE \(provider.name) \(provider.type)\n\(provider.name) \(Metrics.format(provider.read()))\n"
        }
        return out
    }

    private static func render(_ labels: [(String, String)]) -> String {
        guard !labels.isEmpty else { return "" }
        let parts = labels.map { name, value -> String in
            let escaped = value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
            return "\(name)=\"\(escaped)\""
        }
        return "{" + parts.joined(separator: ",") + "}"
    }

    private static func format(_ v: Double) -> String {
        if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
        return String(v)
    }
}
