/// What one request has used up of its ``OTLPDecodingLimits`` so far (shared by both encodings).
struct DecodingBudget {
    let limits: OTLPDecodingLimits
    var items = 0
    var attributes = 0

    mutating func countItem() throws(OTLPDecodingError) {
        items += 1
        if items > limits.maxItems { throw .tooManyItems(items, limit: limits.maxItems) }
    }
}
