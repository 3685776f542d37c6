import Detection
import Foundation
import JSON
import TokenmeterCore

/// The webhook body: Alertmanager's webhook format version 4, so receivers written for
/// Alertmanager work unchanged, with a `tokenmeter` block per alert (unknown fields are ignored
/// by such receivers) holding the numbers to act on.
///
/// One notification is one message with one alert; `groupKey` names the alert's group
/// (project + rule) and its fingerprint.
public struct AlertmanagerPayload: Sendable {
    public var configuration: PayloadConfiguration

    public init(configuration: PayloadConfiguration) {
        self.configuration = configuration
    }

    /// Alertmanager's `endsAt` for an alert that has not ended.
    public static let zeroTime = "0001-01-01T00:00:00Z"

    public func render(_ notification: AlertNotification, id: String, projectName: String?) -> [UInt8] {
        let alert = notification.alert
        let labels = AlertText.labels(of: alert, projectName: projectName)
        let annotations = AlertText.annotations(of: alert)
        let status = notification.kind == .resolved ? "resolved" : "firing"
        let project = alert.key.scope.project.description
        let dashboard = configuration.dashboardURL(project: project, fingerprint: alert.fingerprint)
        let groupLabels: [(String, String)] = [("alertname", alert.key.rule.rawValue), ("project", project)]

        var json = JSONWriter(reservingCapacity: 2048)
        json.beginObject()
        json.key("version"); json.string("4")
        json.key("groupKey")
        json.string("{}:{" + (groupLabels + [("fingerprint", alert.fingerprint)]).sorted { $0.0 < $1.0 }
            .map { "\($0.0)=\(Self.quoted($0.1))" }.joined(separator: ",") + "}")
        json.key("truncatedAlerts"); json.int(0)
        json.key("status"); json.string(status)
        json.key("receiver"); json.string(configuration.receiver)
        json.key("groupLabels"); Self.writeMap(groupLabels, to: &json)
        json.key("commonLabels"); Self.writeMap(labels, to: &json)
        json.key("commonAnnotations"); Self.writeMap(annotations, to: &json)
        json.key("externalURL"); json.string(configuration.dashboardBaseURL ?? "")
        json.key("alerts")
        json.beginArray()
        json.beginObject()
        json.key("status"); json.string(status)
        json.key("labels"); Self.writeMap(labels, to: &json)
        json.key("annotations"); Self.writeMap(annotations, to: &json)
        json.key("startsAt"); json.string(Timestamp.rfc3339(AlertText.startsAt(alert)))
        json.key("endsAt"); json.string(alert.resolvedAt.map(Timestamp.rfc3339) ?? Self.zeroTime)
        json.key("generatorURL"); json.string(dashboard ?? "")
        json.key("fingerprint"); json.string(alert.fingerprint)
        json.key("tokenmeter"); writeExtension(notification, id: id, dashboard: dashboard, to: &json)
        json.endObject()
        json.endArray()
        json.endObject()
        return json.bytes
    }

    private func writeExtension(_ notification: AlertNotification, id: String, dashboard: String?, to json: inout JSONWriter) {
        let alert = notification.alert
        let finding = alert.finding
        json.beginObject()
        json.key("notificationId"); json.string(id)
        json.key("notification"); json.string(notification.kind.rawValue)
        json.key("severity"); json.string(finding.severity.description)
        json.key("summary"); json.string(finding.summary)
        json.key("value"); json.double(finding.value)
        json.key("baseline")
        if let baseline = finding.baseline { json.double(baseline) } else { json.null() }
        json.key("threshold"); json.double(finding.threshold)
        json.key("peakValue"); json.double(alert.peakValue)
        json.key("unit"); json.string(finding.unit.rawValue)
        json.key("detector"); json.string(alert.key.rule.rawValue)
        json.key("detectorVersion"); json.string(Detection.version)
        json.key("evaluatedAt"); json.string(Timestamp.rfc3339(alert.lastEvaluated))
        json.key("dashboardURL")
        if let dashboard { json.string(dashboard) } else { json.null() }
        json.key("details"); Self.writeMap(finding.annotations.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }, to: &json)
        json.key("inhibits"); json.beginArray(); notification.inhibits.forEach { json.string($0) }; json.endArray()
        json.key("inhibitedBy")
        if let inhibitor = alert.inhibitedBy { json.string(inhibitor) } else { json.null() }
        json.endObject()
    }

    static func writeMap(_ pairs: [(String, String)], to json: inout JSONWriter) {
        json.beginObject()
        for (name, value) in pairs {
            json.key(name)
            json.string(value)
        }
        json.endObject()
    }

    /// A label value in a group key, quoted as Alertmanager prints it.
    static func quoted(_ value: String) -> String {
        "\"" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}

/// Labels, annotations and human renderings shared by the webhook and Slack formats.
enum AlertText {
    /// `alertname`, `severity`, `project` (id), `project_name`, the scope labels, and `instance`
    /// for one-shot alerts; sorted by name.
    static func labels(of alert: AlertInstance, projectName: String?) -> [(String, String)] {
        var labels: [String: String] = alert.key.scope.labels
        labels["alertname"] = alert.key.rule.rawValue
        labels["severity"] = alert.finding.severity.description
        labels["project"] = alert.key.scope.project.description
        if let projectName { labels["project_name"] = projectName }
        if let instance = alert.key.instance { labels["instance"] = instance }
        return labels.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    static func annotations(of alert: AlertInstance) -> [(String, String)] {
        [("description", description(of: alert)), ("summary", alert.finding.summary)]
    }

    /// `value 4.2 USD vs baseline 0.8 USD (threshold 1.6 USD), peak 5.1 USD`.
    static func description(of alert: AlertInstance) -> String {
        let finding = alert.finding
        var text = "value \(amount(finding.value, finding.unit))"
        if let baseline = finding.baseline { text += " vs baseline \(amount(baseline, finding.unit))" }
        text += " (threshold \(amount(finding.threshold, finding.unit)))"
        if alert.peakValue > finding.value { text += ", peak \(amount(alert.peakValue, finding.unit))" }
        return text
    }

    static func startsAt(_ alert: AlertInstance) -> Date {
        alert.firingSince ?? alert.pendingSince
    }

    /// A number with its unit for people; the exact values are in the payload's numbers.
    static func amount(_ value: Double, _ unit: MeasureUnit) -> String {
        switch unit {
        case .usd: return "$" + String(format: value.magnitude >= 1 ? "%.2f" : "%.4f", value)
        case .ratio: return String(format: "%.1f%%", value * 100)
        case .milliseconds: return String(format: "%.0f ms", value)
        case .tokens, .count: return String(format: "%.0f", value) + (unit == .tokens ? " tokens" : "")
        case .retriesPerCall: return String(format: "%.2f retries/call", value)
        }
    }
}
