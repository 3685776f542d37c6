import Foundation
import Synchronization

/// Structured logger: one JSON object per line on standard error. Libraries receive a `Logger`;
/// only the executable decides the level. Metadata keys are dotted (`http.status`); never pass
/// secrets, keys, prompts or user ids as metadata.
public struct Logger: Sendable {
    public enum Level: Int, Sendable, Comparable, CaseIterable {
        case debug = 0, info, warning, error
        public static func < (a: Level, b: Level) -> Bool { a.rawValue < b.rawValue }
        public var name: String { ["debug", "info", "warning", "error"][rawValue] }
        public init?(name: String) {
            guard let level = Level.allCases.first(where: { $0.name == name.lowercased() }) else { return nil }
            self = level
        }
    }

    public var label: String
    public var minimumLevel: Level
    private let sink: @Sendable (String) -> Void

    public init(label: String, minimumLevel: Level = .info, sink: @escaping @Sendable (String) -> Void = Logger.standardError) {
        self.label = label
        self.minimumLevel = minimumLevel
        self.sink = sink
    }

    public func with(label: String) -> Logger {
        Logger(label: label, minimumLevel: minimumLevel, sink: sink)
    }

    public func debug(_ message: @autoclosure () -> String, _ metadata: [String: String] = [:]) { log(.debug, message(), metadata) }
    public func info(_ message: @autoclosure () -> String, _ metadata: [String: String] = [:]) { log(.info, message(), metadata) }
    public func warning(_ message: @autoclosure () -> String, _ metadata: [String: String] = [:]) { log(.warning, message(), metadata) }
    public func error(_ message: @autoclosure () -> String, _ metadata: [String: String] = [:]) { log(.error, message(), metadata) }

    public func log(_ level: Level, _ message: String, _ metadata: [String: String]) {
        guard level >= minimumLevel else { return }
        var line = "{\"ts\":\"\(Timestamp.rfc3339(Date()))\",\"level\":\"\(level.name)\",\"logger\":\(Logger.quote(label)),\"msg\":\(Logger.quote(message))"
        for key in metadata.keys.sorted() {
            line += ",\(Logger.quote(key)):\(Logger.quote(metadata[key]!))"
        }
        line += "}\n"
        sink(line)
    }

    public static let standardError: @Sendable (String) -> Void = { line in
        var bytes = Array(line.utf8)
        bytes.withUnsafeMutableBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = write(2, buffer.baseAddress! + offset, buffer.count - offset)
                if written <= 0 { if errno == EINTR { continue }; return }
                offset += written
            }
        }
    }

    static func quote(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 { out += String(format: "\\u%04x", scalar.value) } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out + "\""
    }
}
