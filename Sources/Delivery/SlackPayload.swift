import Detection
import Foundation
import JSON
import TokenmeterCore

/// A Slack incoming-webhook message: `text` (the notification fallback) and Block Kit `blocks`.
public struct SlackPayload: Sendable {
    public var configuration: PayloadConfiguration

    public init(configuration: PayloadConfiguration) {
        self.configuration = configuration
    }

    public func render(_ notification: AlertNotification, projectName: String?) -> [UInt8] {
        let alert = notification.alert
        let rule = alert.key.rule.rawValue
        let scope = alert.key.scope.sortedLabels.map { "\($0.name)=\($0.value)" }.joined(separator: " ")
        let project = projectName ?? "project \(alert.key.scope.project)"
        let title = "\(Self.headline(notification.kind)): \(rule) (\(alert.finding.severity)) in \(project)"
        let dashboard = configuration.dashboardURL(project: alert.key.scope.project.description, fingerprint: alert.fingerprint)

        var json = JSONWriter(reservingCapacity: 1024)
        json.beginObject()
        json.key("text"); json.string("\(title) — \(alert.finding.summary)")
        json.key("blocks")
        json.beginArray()
        Self.block(&json, type: "header") { json in json.key("text"); Self.text(&json, "plain_text", String(title.prefix(150))) }
        Self.block(&json, type: "section") { json in json.key("text"); Self.text(&json, "mrkdwn", Self.escaped(alert.finding.summary)) }
        Self.block(&json, type: "section") { json in
            json.key("fields")
            json.beginArray()
            var fields = [("Scope", scope.isEmpty ? "whole project" : scope), ("Started", Timestamp.rfc3339(AlertText.startsAt(alert)))]
            fields.append(("Value", AlertText.amount(alert.finding.value, alert.finding.unit)))
            if let baseline = alert.finding.baseline { fields.append(("Baseline", AlertText.amount(baseline, alert.finding.unit))) }
            fields.append(("Threshold", AlertText.amount(alert.finding.threshold, alert.finding.unit)))
            if let resolvedAt = alert.resolvedAt { fields.append(("Resolved", Timestamp.rfc3339(resolvedAt))) }
            for (name, value) in fields { Self.text(&json, "mrkdwn", "*\(name)*\n\(Self.escaped(value))") }
            json.endArray()
        }
        var context = "fingerprint `\(alert.fingerprint)`"
        if let dashboard { context = "<\(Self.escaped(dashboard))|Open in Tokenmeter> · " + context }
        Self.block(&json, type: "context") { json in
            json.key("elements"); json.beginArray(); Self.text(&json, "mrkdwn", context); json.endArray()
        }
        json.endArray()
        json.endObject()
        return json.bytes
    }

    static func headline(_ kind: NotificationKind) -> String {
        switch kind {
        case .firing: "Firing"
        case .repeat: "Still firing"
        case .escalated: "Escalated"
        case .resolved: "Resolved"
        }
    }

    private static func block(_ json: inout JSONWriter, type: String, _ body: (inout JSONWriter) -> Void) {
        json.beginObject()
        json.key("type"); json.string(type)
        body(&json)
        json.endObject()
    }

    private static func text(_ json: inout JSONWriter, _ type: String, _ text: String) {
        json.beginObject()
        json.key("type"); json.string(type)
        json.key("text"); json.string(text)
        json.endObject()
    }

    /// Slack's three control characters in mrkdwn.
    static func escaped(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
