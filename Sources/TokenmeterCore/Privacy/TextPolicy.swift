/// What a project keeps of the free text of its events: nothing at all, or the text after the
/// redaction pass. Applied at ingest, before anything is written.
public struct TextPolicy: Sendable, Hashable {
    /// False: prompts, responses and tool text are dropped; the event's numbers are kept.
    public var storeText: Bool
    public var redactor: Redactor

    /// The default for every project: keep text, mask all kinds.
    public static let standard = TextPolicy(storeText: true, redactor: Redactor())

    public init(storeText: Bool, redactor: Redactor) {
        self.storeText = storeText
        self.redactor = redactor
    }

    /// Applies the policy to the event's text; returns how many matches were masked.
    @discardableResult
    public func apply(to event: inout Event) -> Int {
        guard var text = event.text else { return 0 }
        guard storeText else {
            event.text = nil
            return 0
        }
        guard !redactor.kinds.isEmpty else { return 0 }
        var masked = 0
        func redact(_ value: inout String?) {
            guard let original = value else { return }
            let result = redactor.redact(original)
            if result.matches > 0 {
                value = result.text
                masked += result.matches
            }
        }
        redact(&text.prompt)
        redact(&text.response)
        redact(&text.toolInput)
        redact(&text.toolOutput)
        redact(&text.intermediateOutput)
        if masked > 0 { event.text = text }
        return masked
    }
}
