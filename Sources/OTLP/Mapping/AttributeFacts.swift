/// One attribute chosen for a field: the best-ranked of the names a span carries.
struct Pick: Sendable {
    var key: String
    var value: OTLPValue
    var rank: Int
    var convention: Convention
}

/// What one span's (or resource's) attributes say, after one pass over them with the table:
/// the best pick per field, flattened message lists, and application metadata.
struct AttributeFacts: Sendable {
    private var picks: [Pick?] = Array(repeating: nil, count: Field.allCases.count)
    /// `gen_ai.prompt.<n>.<part>`-style lists, by field, then message index.
    var messageLists: [Field: [Int: [(String, OTLPValue)]]] = [:]
    var metadata: [(String, OTLPValue)] = []

    init() {}

    /// `featureAttribute` (configured) outranks every feature name of the table.
    init(_ attributes: [OTLPAttribute], featureAttribute: String?) {
        for attribute in attributes {
            if let featureAttribute, attribute.key == featureAttribute {
                offer(Pick(key: attribute.key, value: attribute.value, rank: -1, convention: .general), for: .feature)
                continue
            }
            if let rule = AttributeTable.rules[attribute.key] {
                offer(Pick(key: attribute.key, value: attribute.value, rank: rule.rank, convention: rule.convention), for: rule.field)
                continue
            }
            collectPrefixed(attribute)
        }
    }

    subscript(field: Field) -> Pick? { picks[field.rawValue] }

    private mutating func offer(_ pick: Pick, for field: Field) {
        if case .empty = pick.value { return }
        if let current = picks[field.rawValue], current.rank <= pick.rank { return }
        picks[field.rawValue] = pick
    }

    private mutating func collectPrefixed(_ attribute: OTLPAttribute) {
        let key = attribute.key
        for (prefix, field) in AttributeTable.messageListPrefixes where key.hasPrefix(prefix) {
            // "<prefix><index>.<part>", e.g. gen_ai.prompt.0.content or llm.input_messages.1.message.role
            let rest = key.dropFirst(prefix.count)
            guard let dot = rest.firstIndex(of: "."), let index = Int(rest[..<dot]), index >= 0, index < 10_000 else { return }
            var part = String(rest[rest.index(after: dot)...])
            if part.hasPrefix("message.") { part.removeFirst("message.".count) }
            messageLists[field, default: [:]][index, default: []].append((part, attribute.value))
            return
        }
        for prefix in AttributeTable.metadataPrefixes where key.hasPrefix(prefix) {
            let name = String(key.dropFirst(prefix.count))
            if !name.isEmpty { metadata.append((name, attribute.value)) }
            return
        }
    }
}
