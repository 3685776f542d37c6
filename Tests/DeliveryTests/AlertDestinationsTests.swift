@testable import Delivery
import Testing

struct AlertDestinationsTests {
    @Test(arguments: [
        AlertDestinations(),
        AlertDestinations(webhookURL: "https://hooks.example.com/tm?token=abc", hmacSecret: "0123456789abcdef"),
        AlertDestinations(slackURL: "https://hooks.slack.com/services/T0/B0/XYZ"),
        AlertDestinations(webhookURL: "http://user:pw@10.0.0.5:9093/api/v2/alerts"),
    ])
    func acceptsUsableDestinations(_ destinations: AlertDestinations) throws {
        try destinations.validate()
    }

    @Test(arguments: [
        (AlertDestinations(webhookURL: "ftp://example.com/x"), "webhook_url", "must be an http:// or https:// URL"),
        (AlertDestinations(webhookURL: "file:///etc/passwd"), "webhook_url", "must be an http:// or https:// URL"),
        (AlertDestinations(slackURL: "https:///path"), "slack_url", "has no host"),
        (AlertDestinations(slackURL: "https://:443/x"), "slack_url", "has no host"),
        (AlertDestinations(webhookURL: "https://a.example/x y"), "webhook_url", "contains whitespace or control characters"),
        (AlertDestinations(webhookURL: "https://a.example/" + String(repeating: "x", count: 2048)), "webhook_url", "longer than 2048 bytes"),
        (AlertDestinations(webhookURL: "https://a.example/", hmacSecret: "short"), "hmac_secret", "must be 16 to 256 bytes"),
        (AlertDestinations(webhookURL: "https://a.example/", hmacSecret: "sixteen chars \u{7}ok"), "hmac_secret", "must be printable ASCII without spaces"),
    ] as [(AlertDestinations, String, String)])
    func refusesOthersNamingTheFieldButNotTheValue(_ destinations: AlertDestinations, _ field: String, _ reason: String) {
        #expect(throws: AlertDestinations.Invalid(field: field, reason: reason)) { try destinations.validate() }
    }

    @Test func countersHavePrometheusNames() {
        let samples = DeliveryCounts(delivered: 3, retried: 2, dead: 1).samples
        #expect(samples.map(\.name) == ["tokenmeter_alert_notifications_delivered_total", "tokenmeter_alert_notifications_retried_total",
                                        "tokenmeter_alert_notifications_dead_total"])
        #expect(samples.map(\.value) == [3, 2, 1])
    }
}
