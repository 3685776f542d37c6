/// # Detection: anomaly detectors and the alert lifecycle, as pure functions
///
/// Rollups → **detectors** → **alert state machine** → (delivery, elsewhere). Nothing here
/// reads a clock, a socket or a database: series come in as values, `now` is an argument,
/// and the answer is a value. The evaluator (not in this module) loads closed minutes, calls
/// the detectors, feeds their ``Evaluation``s to ``AlertStateMachine/step(previous:evaluations:now:)``
/// and stores the instances and notifications it returns in one transaction.
///
/// Time: series detectors judge the closed minutes *before* the minute containing `now`, so
/// the evaluator passes its watermark (wall time − ingest grace, 30 s to start with) as
/// `now`, never the wall clock, and a late event can only change a minute not yet judged.
/// The two fast rules (error surge, retry storm) also judge the freshest 60 s of raw events
/// (``CallSample``, ending a few seconds before the wall clock, not at the watermark): a
/// minute-late signal plus a 30 s grace could not meet a 2-minute detection budget, and a
/// rate over 60 s barely moves when the last seconds' events are still in flight.
///
/// ## Why every detector has four guards
/// 10,000 series evaluated every minute is 14.4 M tests a day; even a 5σ Gaussian tail gives
/// several false alerts daily, and LLM spend is heavy-tailed. So each rule requires a
/// statistical score **and** a relative lift **and** an absolute floor (dollars, ms) **and**
/// a minimum volume, and then holds for a pending period. Defaults come from the reference
/// design (`shared/reference/anomaly-detection.md` §4), which measured them on synthetic
/// traffic: spend z ≥ 6, ×2, +$0.10 per 5 min, ≥ 20 calls, breaching at 3 consecutive
/// 1-minute evaluations met recall 0.96 on ×3 spikes at a median 6 min with 1 false alert per
/// 8 series-weeks, where z ≥ 5 and 2 evaluations gave 12. Spend now breaches at 2 consecutive
/// evaluations, with z ≥ 6 kept and a test the pending period could not make: the breach must
/// survive dropping the window's most expensive minute (one heavy-tailed call stays in a
/// 5-minute window for five evaluations, so it passes any pending period).
///
/// ## Baselines
/// Medians of the same window one to four weeks ago (weekday ≠ weekend), else one to seven
/// days ago, else the trailing day with stricter thresholds (×1.5) — the last is what a new
/// scope has, and a trailing median mistakes every morning ramp for a spike. Spend baselines
/// also take the windows ±10 min around the same minute of each past week or day (and keep
/// the larger of that median and the plain one): two past Mondays are a noisy baseline. Medians, so
/// one past incident cannot drag the baseline. Spreads are robust too (1.4826 × MAD), floored,
/// because a perfectly regular or quantised history has MAD 0 and would make any wiggle
/// infinitely significant.
///
/// ## Improvement over the reference: volume-aware spend spread
/// The reference's week-wide MAD of the relative deviation (x − b)/b is dominated by quiet
/// hours, where Poisson noise relative to b is largest (∝ 1/√calls), so daytime spikes fired
/// late. ``SpendSpike`` standardises residuals by the expected noise of c calls, b/√c, and
/// calibrates one factor per scope from their MAD; the reference note reports this fired
/// 1–3 min sooner at peaks with no extra false alerts on its second generator. Quiet
/// scopes also get wider windows (15 or 60 min) so a window holds enough calls to judge.
///
/// ## Lifecycle
/// Detectors answer breaching / elevated / clear / no data, not "finding or nil": *elevated*
/// is the band between the resolve and fire thresholds (value hysteresis), and *no data*
/// keeps state so a ratio alert never resolves because traffic stopped (grafana#16290,
/// prometheus#14085). Time hysteresis: pending for the finding's `pendingFor`, resolved
/// only after ``AlertPolicy/resolveAfter`` of continuous clear answers. Identity is
/// ``AlertKey/fingerprint`` (project, rule, sorted labels, one-shot instance such as a trace
/// or budget period) — the scope, never the triggering request (LiteLLM #3738, #27398).
/// Inhibition (Alertmanager's, with scope nesting for `equal` labels): a firing retry storm or
/// error surge mutes a spend spike in a nested scope; a project-wide breach mutes the same
/// rule in its features and models; a spend spike mutes the project's `expensive_request`
/// (which waits 5 min before it is told, so the spike can catch up) and its `hourly_cost`; a feature-wide runaway
/// alert (≥ 3 looping traces in 15 min) mutes its traces. A muted alert keeps its own
/// lifecycle and a link (`inhibitedBy`) and stays muted until it resolves — it is the same
/// incident — so one incident is one firing and one resolved message. A muted alert still
/// mutes its own scope and narrower ones, never a broader one. A *pending* cause only holds
/// the first message; if it never fires, the muted alert is told a round later. Grouping
/// (Alertmanager's `group_by: [project, alertname]`): the statistical rules are told once per
/// project and rule; narrower or sibling scopes that fire before or beside the one told are
/// linked to it the same way. Notifications: one firing and one resolved per incident,
/// repeats every 4 h, escalation only when severity rises *and* the value doubled (never for
/// a runaway trace: one that keeps growing is the same incident, still firing).
public enum Detection {
    /// Goes into payloads (`detector` version) so receivers can tell rule changes apart.
    public static let version = "2"
}
