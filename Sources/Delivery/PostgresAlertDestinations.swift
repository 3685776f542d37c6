import Detection
import Foundation
import Postgres
import TokenmeterCore

/// `alert_destinations` and the outbox's dead letters behind the API's port. The HMAC secret goes
/// in but never comes out: reads say only whether one is set.
public final class PostgresAlertDestinations: AlertDestinationRepository {
    private let pool: PostgresPool

    public init(pool: PostgresPool) {
        self.pool = pool
    }

    public func destinations(project: ProjectID) throws -> DestinationSettings? {
        try pool.withConnection { connection in
            let rows = try connection.query("""
                SELECT webhook_url, slack_url, hmac_secret IS NOT NULL AND hmac_secret <> '' AS has_secret, updated_at
                FROM alert_destinations WHERE project_id = \(project.rawValue)
                """).rows
            guard let row = rows.first else { return nil }
            return DestinationSettings(webhookURL: try row.decode(String?.self, column: "webhook_url"),
                                       slackURL: try row.decode(String?.self, column: "slack_url"),
                                       hasHMACSecret: try row.decode(Bool.self, column: "has_secret"),
                                       updatedAt: try row.decode(Date?.self, column: "updated_at"))
        }
    }

    public func setDestinations(webhookURL: String?, slackURL: String?, hmacSecret: String?, project: ProjectID) throws {
        let destinations = AlertDestinations(webhookURL: webhookURL, slackURL: slackURL, hmacSecret: hmacSecret)
        do { try destinations.validate() } catch { throw InvalidAlertSetting(field: error.field, reason: error.reason) }
        try pool.withConnection { try AlertOutbox.setDestinations(destinations, project: project, on: $0) }
    }

    public func deadLetters(project: ProjectID, limit: Int) throws -> [DeadLetterRecord] {
        try pool.withConnection { try AlertOutbox.deadLetters(project: project, limit: limit, on: $0) }
    }
}
