@testable import Delivery
import Detection
import Foundation
import JSON
import Testing
import TokenmeterCore

struct PayloadTests {
    let payloads = PayloadConfiguration(receiver: "ops-team", dashboardBaseURL: "https://tm.example.com/")

    @Test func webhookIsAlertmanagerV4WithTokenmeterBlock() throws {
        let notification = Notifications.spendSpike(project: ProjectID(7), feature: "chat")
        let body = AlertmanagerPayload(configuration: payloads).render(notification, id: "0f0e-id", projectName: "shop")
        let json = try JSONParser.parse(body)
        let fingerprint = notification.alert.fingerprint
        #expect(json["version"]?.stringValue == "4")
        #expect(json["status"]?.stringValue == "firing")
        #expect(json["receiver"]?.stringValue == "ops-team")
        #expect(json["groupKey"]?.stringValue == "{}:{alertname=\"spend_spike\",fingerprint=\"\(fingerprint)\",project=\"7\"}")
        #expect(json["truncatedAlerts"]?.int64Value == 0)
        #expect(json["groupLabels"]?["alertname"]?.stringValue == "spend_spike")
        #expect(json["externalURL"]?.stringValue == "https://tm.example.com/")
        let alerts = try #require(json["alerts"]?.arrayValue)
        #expect(alerts.count == 1)
        let alert = alerts[0]
        #expect(alert["status"]?.stringValue == "firing")
        #expect(alert["fingerprint"]?.stringValue == fingerprint)
        #expect(alert["startsAt"]?.stringValue == "2026-11-30T00:53:20Z")
        #expect(alert["endsAt"]?.stringValue == "0001-01-01T00:00:00Z")
        let link = "https://tm.example.com/alerts/\(fingerprint)?project=7"
        #expect(alert["generatorURL"]?.stringValue == link)
        let labels = try #require(alert["labels"]?.objectValue)
        #expect(labels.count == 6)
        for (name, value) in [("alertname", "spend_spike"), ("severity", "critical"), ("project", "7"), ("project_name", "shop"),
                              ("feature", "chat"), ("model", "gpt-4o")] {
            #expect(alert["labels"]?[name]?.stringValue == value)
        }
        #expect(alert["annotations"]?["summary"]?.stringValue == "Spend $4.20 in 5 min vs $0.80 expected (×5.3) for feature=chat")
        #expect(alert["annotations"]?["description"]?.stringValue == "value $4.20 vs baseline $0.8000 (threshold $1.60), peak $5.10")
        let extra = try #require(alert["tokenmeter"])
        #expect(extra["notificationId"]?.stringValue == "0f0e-id")
        #expect(extra["notification"]?.stringValue == "firing")
        #expect(extra["value"]?.doubleValue == 4.2)
        #expect(extra["baseline"]?.doubleValue == 0.8)
        #expect(extra["threshold"]?.doubleValue == 1.6)
        #expect(extra["peakValue"]?.doubleValue == 5.1)
        #expect(extra["severity"]?.stringValue == "critical")
        #expect(extra["unit"]?.stringValue == "usd")
        #expect(extra["dashboardURL"]?.stringValue == link)
        #expect(extra["details"]?["z"]?.stringValue == "9.10")
        #expect(json["commonLabels"]?["feature"]?.stringValue == "chat")
    }

    @Test func resolvedCarriesEndsAtAndNoLinksWithoutBaseURL() throws {
        let notification = Notifications.spendSpike(project: ProjectID(7), feature: "chat", kind: .resolved)
        let body = AlertmanagerPayload(configuration: PayloadConfiguration()).render(notification, id: "x", projectName: nil)
        let json = try JSONParser.parse(body)
        #expect(json["status"]?.stringValue == "resolved")
        #expect(json["alerts"]?[0]?["status"]?.stringValue == "resolved")
        #expect(json["alerts"]?[0]?["endsAt"]?.stringValue == "2026-11-30T01:13:20Z")
        #expect(json["alerts"]?[0]?["generatorURL"]?.stringValue == "")
        #expect(json["alerts"]?[0]?["tokenmeter"]?["dashboardURL"]?.isNull == true)
        #expect(json["alerts"]?[0]?["labels"]?["project_name"] == nil)
    }

    @Test func slackMessageHasTextAndBlocks() throws {
        let notification = Notifications.spendSpike(project: ProjectID(7), feature: "a<b>&c", kind: .escalated)
        let body = SlackPayload(configuration: payloads).render(notification, projectName: "shop")
        let json = try JSONParser.parse(body)
        let text = try #require(json["text"]?.stringValue)
        #expect(text.hasPrefix("Escalated: spend_spike (critical) in shop — Spend $4.20"))
        let blocks = try #require(json["blocks"]?.arrayValue)
        #expect(blocks.map { $0["type"]?.stringValue } == ["header", "section", "section", "context"])
        #expect(blocks[0]["text"]?["type"]?.stringValue == "plain_text")
        // Slack's control characters are escaped in mrkdwn.
        #expect(blocks[1]["text"]?["text"]?.stringValue == "Spend $4.20 in 5 min vs $0.80 expected (×5.3) for feature=a&lt;b&gt;&amp;c")
        let fields = try #require(blocks[2]["fields"]?.arrayValue).compactMap { $0["text"]?.stringValue }
        #expect(fields.contains("*Value*\n$4.20"))
        #expect(fields.contains("*Baseline*\n$0.8000"))
        let context = try #require(blocks[3]["elements"]?[0]?["text"]?.stringValue)
        #expect(context.hasPrefix("<https://tm.example.com/alerts/\(notification.alert.fingerprint)?project=7|Open in Tokenmeter>"))
    }

    @Test func notificationIdsAreStableAndDistinct() {
        let firing = Notifications.spendSpike(project: ProjectID(7), feature: "chat")
        let again = Notifications.spendSpike(project: ProjectID(7), feature: "chat")
        let ids = [
            OutboxKey(notification: firing, destination: .webhook).id,
            OutboxKey(notification: firing, destination: .slack).id,
            OutboxKey(notification: Notifications.spendSpike(project: ProjectID(7), feature: "chat", kind: .resolved), destination: .webhook).id,
            OutboxKey(notification: Notifications.spendSpike(project: ProjectID(7), feature: "chat", kind: .repeat), destination: .webhook).id,
            OutboxKey(notification: Notifications.spendSpike(project: ProjectID(7), feature: "chat", at: Notifications.start + 86_400), destination: .webhook).id,
            OutboxKey(notification: Notifications.spendSpike(project: ProjectID(8), feature: "chat"), destination: .webhook).id,
        ]
        #expect(OutboxKey(notification: again, destination: .webhook).id == ids[0])
        #expect(Set(ids).count == ids.count)
        #expect(ids[0].count == 36 && ids[0].split(separator: "-").map(\.count) == [8, 4, 4, 4, 12])
    }
}
