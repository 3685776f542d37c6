import Foundation
import Postgres
import TokenmeterCore

/// Per-project price overrides, kept as exact numerics.
public final class PostgresPriceOverrides: PriceOverrideRepository {
    private let pool: PostgresPool

    public init(pool: PostgresPool) {
        self.pool = pool
    }

    public func overrides(project: ProjectID) throws -> [ModelPrice] {
        try storage {
            try pool.withConnection { connection in
                let result = try connection.query(PostgresQuery(sql: """
                    SELECT model, provider, extract(epoch from effective_from)::float8 AS effective_epoch,
                           input_per_million::text AS input, output_per_million::text AS output,
                           cached_input_per_million::text AS cached, cache_write_per_million::text AS cache_write
                    FROM price_overrides WHERE project_id = $1 ORDER BY model, effective_from
                    """, binds: [.int(project.rawValue)]))
                return try result.rows.map { row in
                    func money(_ column: String) throws -> Money? {
                        guard let text = row[column] else { return nil }
                        guard let money = Money(decimalString: text) else { throw PostgresError.decode(column: column, type: "Money", value: nil) }
                        return money
                    }
                    return ModelPrice(provider: try row.decode(String.self, column: "provider"),
                                      model: try row.decode(String.self, column: "model"),
                                      effectiveFrom: Date(timeIntervalSince1970: try row.decode(Double.self, column: "effective_epoch")),
                                      inputPerMillion: try money("input") ?? Money(picodollars: 0),
                                      outputPerMillion: try money("output") ?? Money(picodollars: 0),
                                      cachedInputPerMillion: try money("cached"),
                                      cacheWritePerMillion: try money("cache_write"),
                                      aliases: [])
                }
            }
        }
    }

    public func upsertOverride(project: ProjectID, price: ModelPrice) throws {
        try storage {
            try pool.withConnection { connection in
                try connection.query(PostgresQuery(sql: """
                    INSERT INTO price_overrides (project_id, model, effective_from, provider, input_per_million, output_per_million,
                                                 cached_input_per_million, cache_write_per_million)
                    VALUES ($1, $2, $3, $4, $5::numeric, $6::numeric, $7::numeric, $8::numeric)
                    ON CONFLICT (project_id, model, effective_from) DO UPDATE SET
                        provider = EXCLUDED.provider, input_per_million = EXCLUDED.input_per_million,
                        output_per_million = EXCLUDED.output_per_million, cached_input_per_million = EXCLUDED.cached_input_per_million,
                        cache_write_per_million = EXCLUDED.cache_write_per_million, updated_at = now()
                    """, binds: [.int(project.rawValue), .text(price.model), .timestamp(price.effectiveFrom), .text(price.provider),
                                 .text(price.inputPerMillion.usdString), .text(price.outputPerMillion.usdString),
                                 price.cachedInputPerMillion.map { .text($0.usdString) } ?? .null,
                                 price.cacheWritePerMillion.map { .text($0.usdString) } ?? .null]))
            }
        }
    }
}
