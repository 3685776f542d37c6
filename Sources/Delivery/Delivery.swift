/// # Delivery: alert notifications to webhooks and Slack, at least once
///
/// Rollups → detectors → alert state machine → **outbox → deliverer → receivers**.
///
/// - ``AlertOutbox/enqueue(_:in:now:)`` writes the state machine's notifications into
///   `alert_outbox` inside the evaluator's transaction (the one storing the alert state), one row
///   per destination of the project (`alert_destinations`: webhook URL, Slack URL, HMAC secret),
///   body rendered once: ``AlertmanagerPayload`` (Alertmanager webhook v4 + a `tokenmeter` block)
///   or ``SlackPayload``. Idempotent by (project, fingerprint, kind, incident start, sequence,
///   destination); the row id is derived from that key.
/// - ``Deliverer`` claims due rows (`FOR UPDATE SKIP LOCKED`, then a lease, so several instances
///   share the queue and a dead one's rows come back), POSTs through ``CurlTransport``, and marks
///   a row delivered only after a 2xx. Network errors, timeouts, 408, 429 and 5xx are retried with
///   ``RetryPolicy`` (Retry-After, else 10 s × 2^n with jitter, capped at 1 h); other statuses,
///   `maxAttempts` or 24 h make a dead letter. Rows of one alert and destination go out in order.
/// - Each request carries `X-Tokenmeter-Notification-Id` (stable across retries: receivers
///   dedupe by it), `X-Tokenmeter-Timestamp`, and with a secret `X-Tokenmeter-Signature`
///   (``WebhookSignature``: HMAC-SHA256 over `timestamp.body`).
/// - ``DeliveryService`` runs a deliverer on its own thread; ``DeliveryCounters`` feed `/metrics`;
///   ``AlertOutbox/deadLetters(project:limit:on:)`` and ``AlertOutbox/backlog(on:)`` feed the API.
///
/// Secrets: webhook URLs (which may hold tokens) and HMAC secrets are never logged or put in
/// errors; logs name the outbox row id, project id and destination kind only.
public enum Delivery {}
