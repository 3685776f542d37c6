#!/usr/bin/env python3
"""Browser test of the dashboards: headless Chromium (Debian's) over the DevTools protocol.

Run by Tests/AppTests/DashboardBrowserTests.swift against a real server: it ingests a known dataset,
opens every view, and checks that the figures on the page equal the API's, that nothing logs a console
error, that an XSS prompt is shown as text and never runs, and that a phone-width page has no
horizontal overflow. Screenshots go to --screenshots. Prints one line per check and
'N passed, N failed' last; exits 1 on any failure.
"""
import argparse, base64, datetime as dt, json, math, os, re, shutil, subprocess, sys, tempfile, threading, time
import urllib.parse, urllib.request

import websocket  # websocket-client

XSS_PROMPT = 'Summarize <script>window.__xss = "script"</script> and <img src=x onerror="window.__xss = \'img\'"> now'
XSS_RESPONSE = '</pre><svg onload="window.__xss=\'svg\'"><b>bold?</b>'


class CDP:
    """One page target; commands are synchronous, events are queued for whoever looks."""

    def __init__(self, ws_url):
        self.ws = websocket.create_connection(ws_url, timeout=30, suppress_origin=True)
        self.next_id = 0
        self.events = []

    def call(self, method, **params):
        self.next_id += 1
        mine = self.next_id
        self.ws.send(json.dumps({"id": mine, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == mine:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            if "method" in message:
                self.events.append(message)

    def pump(self, seconds):
        """Reads events for a while (console messages arrive on their own)."""
        self.ws.settimeout(seconds)
        try:
            while True:
                message = json.loads(self.ws.recv())
                if "method" in message:
                    self.events.append(message)
        except websocket.WebSocketTimeoutException:
            pass
        finally:
            self.ws.settimeout(30)

    def eval(self, expression):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"evaluate failed: {result['exceptionDetails']}")
        return result["result"].get("value")


class Browser:
    def __init__(self, chromium):
        self.profile = tempfile.mkdtemp(prefix="tokenmeter-chromium-")
        arguments = [chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--hide-scrollbars",
                     "--remote-debugging-port=0", "--remote-allow-origins=*", f"--user-data-dir={self.profile}",
                     "--window-size=1280,800", "about:blank"]
        self.process = subprocess.Popen(arguments, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 30
        endpoint = None
        while time.time() < deadline and endpoint is None:
            line = self.process.stderr.readline()
            if not line and self.process.poll() is not None:
                raise RuntimeError(f"chromium exited with {self.process.returncode}")
            match = re.search(r"DevTools listening on (ws://\S+)", line)
            if match:
                endpoint = match.group(1)
        if endpoint is None:
            raise RuntimeError("chromium did not print its DevTools endpoint within 30 s")
        # Keep reading its stderr so a chatty Chromium never blocks on a full pipe.
        threading.Thread(target=lambda: [None for _ in self.process.stderr], daemon=True).start()
        port = urllib.parse.urlparse(endpoint).port
        targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list"))
        page = next(t for t in targets if t["type"] == "page")
        self.page = CDP(page["webSocketDebuggerUrl"])
        for domain in ["Page", "Runtime", "Log"]:
            self.page.call(domain + ".enable")

    def close(self):
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        shutil.rmtree(self.profile, ignore_errors=True)


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def expect(self, condition, what):
        if condition:
            self.passed += 1
            print(f"ok   {what}", flush=True)
        else:
            self.failed += 1
            print(f"FAIL {what}", flush=True)
        return condition

    def close(self, a, b, what):
        same = (a is None and b is None) or (a is not None and b is not None and math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12))
        return self.expect(same, f"{what}: page {a!r} == api {b!r}")


def api(base, key, path, **params):
    query = urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
    request = urllib.request.Request(f"{base}{path}?{query}", headers={"Authorization": f"Bearer {key}"})
    with urllib.request.urlopen(request) as response:
        return json.load(response)


def post_events(base, key, events):
    body = json.dumps(events).encode()
    request = urllib.request.Request(f"{base}/v1/events", data=body, method="POST",
                                     headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request) as response:
        answer = json.load(response)
    if answer.get("rejected"):
        raise RuntimeError(f"events rejected: {answer['rejected'][:3]}")


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def dataset(end):
    """~400 calls over the 24 h before `end` and 100 in the 24 h before that; deterministic."""
    features = ["summarizer", "chat", "search", "<b>tagged</b> feature"]
    models = [("openai", "gpt-4o-mini"), ("openai", "gpt-4o"), ("anthropic", "claude-3-5-sonnet"), ("acme", "acme-unpriced-1")]
    events = []
    for i in range(500):
        previous = i >= 400
        offset = dt.timedelta(minutes=(i * 37) % (23 * 60) + 30) + (dt.timedelta(hours=24) if previous else dt.timedelta())
        provider, model = models[(i * 7) % 4 if i % 11 else 3]
        event = {
            "request_id": f"req-{i:04d}", "timestamp": iso(end - offset), "feature": features[i % 4],
            "user_id": f"u-{i % 9}", "environment": "prod" if i % 5 else "staging", "provider": provider, "model": model,
            "tokens_in": 200 + (i * 53) % 4000, "tokens_out": 20 + (i * 31) % 900, "latency_ms": 80 + (i * i * 13) % 4000,
        }
        if i % 3 == 0:
            event["cached_tokens"] = event["tokens_in"] // 2
        if i % 3 == 1:
            event["ttft_ms"] = min(30 + (i * 17) % 600, event["latency_ms"])
        if i % 13 == 0:
            event["status"] = "error"; event["error_type"] = "rate_limit"; event["http_status"] = 429
        if i % 10 == 7:
            event["cache_hit"] = True; event["tokens_in"] = 0; event["tokens_out"] = 0; event.pop("cached_tokens", None)
        events.append(event)
    # Older history for the 30-day render measurement: 60 features × 3 models a day over days 3–30,
    # outside both 24-hour windows the figures are checked on.
    for day in range(2, 30):
        for f in range(60):
            provider, model = models[f % 3]
            events.append({"request_id": f"hist-{day}-{f}", "timestamp": iso(end - dt.timedelta(days=day, minutes=f * 7)),
                           "feature": f"feature-{f:02d}", "user_id": f"u-{f % 9}", "environment": "prod", "provider": provider,
                           "model": model, "tokens_in": 1000 + f * 10, "tokens_out": 100 + day, "latency_ms": 100 + f * day % 900})
    agent_start = end - dt.timedelta(minutes=20)
    events += [
        {"request_id": "agent-xss", "timestamp": iso(agent_start), "step_index": 0, "step_type": "llm_call", "feature": "chat",
         "user_id": "u-1", "environment": "prod", "provider": "openai", "model": "gpt-4o-mini", "tokens_in": 1000, "tokens_out": 200,
         "latency_ms": 900, "prompt": XSS_PROMPT, "response": XSS_RESPONSE},
        {"request_id": "agent-xss", "timestamp": iso(agent_start + dt.timedelta(milliseconds=950)), "step_index": 1, "step_type": "tool_call",
         "tool_name": "web_search", "feature": "chat", "latency_ms": 300, "tool_input": '{"q": "<script>alert(1)</script>"}'},
        {"request_id": "agent-xss-child", "parent_request_id": "agent-xss", "timestamp": iso(agent_start + dt.timedelta(milliseconds=1300)),
         "step_index": 0, "feature": "chat", "provider": "openai", "model": "gpt-4o", "tokens_in": 500, "tokens_out": 50, "latency_ms": 700},
    ]
    return events


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True)
    parser.add_argument("--read-key", required=True)
    parser.add_argument("--ingest-key", required=True)
    parser.add_argument("--empty-read-key", required=True, help="read key of a project without events")
    parser.add_argument("--screenshots", required=True)
    parser.add_argument("--chromium", default=os.environ.get("TOKENMETER_TEST_CHROMIUM", "/usr/bin/chromium"))
    args = parser.parse_args()
    os.makedirs(args.screenshots, exist_ok=True)
    base, key = args.base, args.read_key

    now = dt.datetime.now(dt.timezone.utc)
    end = (now + dt.timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
    start = end - dt.timedelta(hours=24)
    post_events(base, args.ingest_key, dataset(now.replace(microsecond=0) - dt.timedelta(minutes=1)))
    scope = {"from": iso(start), "to": iso(end)}
    query = urllib.parse.urlencode(scope)

    checks = Checks()
    browser = Browser(args.chromium)
    page = browser.page
    render_times = []

    def wait_render(after=0, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            state = page.eval("window.__tokenmeter ? JSON.stringify(window.__tokenmeter) : null")
            if state:
                state = json.loads(state)
                if state["renderedAt"] > after:
                    return state
            time.sleep(0.05)
        raise RuntimeError("the view did not render within %d s" % timeout)

    def open_view(fragment, width=1280, height=800, mobile=False):
        page.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=mobile)
        # A fresh document each time (a hash-only change would not reload).
        page.call("Page.navigate", url="about:blank")
        page.call("Page.navigate", url=f"{base}/#{fragment}")
        return wait_render(0)

    def shot(name):
        data = page.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)["data"]
        with open(os.path.join(args.screenshots, name + ".png"), "wb") as f:
            f.write(base64.b64decode(data))

    def metric(name):
        return page.eval(f"(() => {{ const e = document.querySelector('[data-metric=\"{name}\"]'); return e ? e.dataset.value : null; }})()")

    def num(v):
        return None if v in (None, "") else float(v)

    def console_errors():
        page.pump(0.2)
        errors = []
        for event in page.events:
            if event["method"] == "Runtime.exceptionThrown":
                errors.append(event["params"]["exceptionDetails"].get("text", "exception"))
            elif event["method"] == "Runtime.consoleAPICalled" and event["params"]["type"] in ("error", "assert"):
                errors.append(" ".join(str(a.get("value", a.get("description", ""))) for a in event["params"]["args"]))
            elif event["method"] == "Log.entryAdded" and event["params"]["entry"]["level"] == "error":
                errors.append(event["params"]["entry"].get("text", ""))
        page.events.clear()
        return errors

    try:
        # First visit: no key yet, so the key panel asks for one; paste it once.
        page.call("Page.navigate", url=f"{base}/#/overview?{query}")
        page.pump(1.0)
        checks.expect(page.eval("!document.getElementById('key-panel').hidden"), "without a key the read-key panel is shown")
        before = page.eval("window.__tokenmeter ? window.__tokenmeter.renderedAt : 0") or 0
        page.eval(f"(() => {{ const f = document.getElementById('key-form'); f.key.value = {json.dumps(key)}; f.requestSubmit(); }})()")
        wait_render(before)
        checks.expect(page.eval("localStorage.getItem('tokenmeter.readKey')") == key, "the pasted key is kept in localStorage")
        checks.expect(key not in page.eval("location.href"), "the key is not in the URL")

        # Overview: the tiles equal the API's figures, for this range and the previous one.
        state = open_view(f"/overview?{query}")
        render_times.append(state["renderMs"])
        usage = api(base, key, "/v1/usage", **scope)["rows"][0]
        prev_scope = {"from": iso(start - dt.timedelta(hours=24)), "to": iso(start)}
        previous = api(base, key, "/v1/usage", **prev_scope)["rows"][0]
        latency = api(base, key, "/v1/latency", **scope)["rows"][0]
        cache = api(base, key, "/v1/cache", **scope)["rows"][0]
        checks.close(num(metric("spend")), usage["cost_usd"], "overview spend")
        checks.close(num(metric("calls")), usage["calls"], "overview calls")
        checks.close(num(metric("tokens")), usage["tokens_in"] + usage["tokens_out"], "overview tokens")
        checks.close(num(metric("error_rate")), usage["errors"] / usage["calls"], "overview error rate")
        checks.close(num(metric("p95")), latency["p95"], "overview p95 latency")
        checks.close(num(metric("cache_hit_rate")), cache["cache_hit_rate"], "overview cache hit rate")
        checks.close(num(page.eval("document.querySelector('[data-metric=spend] .kpi-change').dataset.previous")), previous["cost_usd"], "overview previous-period spend")
        calls_text = page.eval("document.querySelector('[data-metric=calls] .kpi-value').textContent")
        checks.expect(calls_text == f"{usage['calls']:,}", f"overview shows calls as {calls_text!r}")
        change = (usage["calls"] - previous["calls"]) / previous["calls"] * 100
        change_text = page.eval("document.querySelector('[data-metric=calls] .kpi-change').firstChild.textContent")
        checks.expect(change_text == ("+" if change > 0 else "−") + f"{abs(change):.1f}%", f"overview calls change {change_text!r} ({change:+.2f}%)")
        series = api(base, key, "/v1/usage", **scope, interval="hour", group_by="feature")["rows"]
        bars = page.eval("document.querySelectorAll('.chart rect').length")
        checks.expect(bars == sum(1 for r in series if (r["cost_usd"] or 0) > 0), f"spend chart has one bar segment per priced bucket×feature ({bars})")
        checks.expect(page.eval("document.querySelector('[data-unpriced]') !== null"), "overview calls out unpriced calls")
        checks.expect(console_errors() == [], "overview: no console errors")
        shot("overview-desktop")

        # URL state: the stack toggle lands in the URL and survives a reload.
        before = state["renderedAt"]
        page.eval("[...document.querySelectorAll('.toggle button')].find(b => b.textContent === 'by model').click()")
        wait_render(before)
        checks.expect("stack=model" in page.eval("location.hash"), "the stack choice is in the URL")
        before = page.eval("window.__tokenmeter.renderedAt")
        page.call("Page.reload")
        wait_render(before)
        checks.expect(page.eval("document.querySelector('.toggle button.on').textContent") == "by model", "a reload reopens the same view")

        # Cost: every table row equals the API's group.
        open_view(f"/cost?{query}")
        for dimension in ["feature", "model", "provider", "environment"]:
            rows = api(base, key, "/v1/usage", **scope, group_by=dimension)["rows"]
            page_rows = page.eval(f"""[...document.querySelectorAll('.panel')].find(p => p.querySelector('h2').textContent === 'By {dimension}')
                .querySelectorAll('tbody tr').length""")
            checks.expect(page_rows == len(rows), f"cost by {dimension}: {page_rows} rows == {len(rows)}")
            for row in rows:
                name = row[dimension] if row[dimension] is not None else "(none)"
                shown = page.eval(f"""(() => {{ const panel = [...document.querySelectorAll('.panel')].find(p => p.querySelector('h2').textContent === 'By {dimension}');
                    const tr = [...panel.querySelectorAll('tbody tr')].find(tr => tr.cells[0].textContent === {json.dumps(name)});
                    return tr ? [tr.cells[1].dataset.value, tr.cells[4].dataset.value ?? null, tr.cells[6].dataset.value] : null; }})()""")
                ok = shown is not None and int(shown[0]) == row["calls"] and int(shown[2]) == row["unpriced_calls"] and \
                    ((shown[1] is None and row["cost_usd"] is None) or (shown[1] is not None and math.isclose(float(shown[1]), row["cost_usd"] or 0, rel_tol=1e-9)))
                checks.expect(ok, f"cost by {dimension} {name!r}: page {shown} == api calls {row['calls']}, cost {row['cost_usd']}, unpriced {row['unpriced_calls']}")
        unpriced = sum(r["unpriced_calls"] for r in api(base, key, "/v1/usage", **scope)["rows"])
        checks.close(num(metric("unpriced_calls")), unpriced, "cost unpriced calls")
        top = api(base, key, "/v1/top", **scope, dimension="user_id", limit=20)["rows"]
        first_user = page.eval("[...document.querySelectorAll('.panel')].find(p => p.querySelector('h2').textContent.startsWith('Top spenders')).querySelector('tbody tr td').textContent")
        checks.expect(first_user == top[0]["user_id"], f"top spender {first_user!r} == {top[0]['user_id']!r}")
        # The CSV button: the file it hands to the browser, caught where the page makes its blob URL.
        csv_text = page.eval("""(async () => {
            const make = URL.createObjectURL; let blob = null, name = null;
            URL.createObjectURL = (b) => { blob = b; return make(b); };
            const click = HTMLAnchorElement.prototype.click;
            HTMLAnchorElement.prototype.click = function () { name = this.download; };
            document.querySelector('.table-tools button').click();
            URL.createObjectURL = make; HTMLAnchorElement.prototype.click = click;
            return blob ? name + "\\n" + await blob.text() : null; })()""") or ""
        feature_rows = api(base, key, "/v1/usage", **scope, group_by="feature")["rows"]
        checks.expect(csv_text.startswith("cost-by-feature.csv\nfeature,calls,tokens in") and csv_text.count("\r\n") == 1 + len(feature_rows)
                      and '"<b>tagged</b> feature"' not in csv_text and "<b>tagged</b> feature," in csv_text,
                      f"the feature table downloads as CSV with one line per row ({csv_text[:60]!r})")
        checks.expect(console_errors() == [], "cost: no console errors")
        shot("cost-desktop")

        # Latency.
        open_view(f"/latency?{query}")
        for p in ["p50", "p95", "p99", "max"]:
            checks.close(num(metric("latency_" + p)), latency[p], f"latency {p}")
        by_model = api(base, key, "/v1/latency", **scope, group_by="model")["rows"]
        checks.expect(page.eval("[...document.querySelectorAll('.panel')].find(p => p.querySelector('h2').textContent === 'Latency per model').querySelectorAll('tbody tr').length") == len(by_model),
                      "latency table has one row per model")
        checks.expect(page.eval("document.querySelectorAll('.chart path').length") >= 2, "latency and TTFT lines are drawn")
        histogram = api(base, key, "/v1/latency", **scope, histogram="24")["rows"][0]["histogram"]
        bar_counts = page.eval("[...document.querySelectorAll('svg[aria-label=\\'Latency histogram\\'] rect title')].map(t => Number(t.textContent.split(': ').pop().split(' ')[0]))")
        checks.expect(bar_counts == [b["count"] for b in histogram] and sum(bar_counts) == latency["count"] and 2 <= len(bar_counts) <= 25,
                      f"latency histogram bars {bar_counts} are the API's bins and add up to its {latency['count']} calls")
        checks.expect(console_errors() == [], "latency: no console errors")
        shot("latency-desktop")

        # Cache.
        open_view(f"/cache?{query}")
        for field in ["cache_hit_rate", "cached_token_share", "provider_cache_hit_rate", "saved_usd", "cached_tokens_saved_usd", "cache_hits_saved_usd"]:
            checks.close(num(metric(field)), cache[field], f"cache {field}")
        checks.expect(console_errors() == [], "cache: no console errors")
        shot("cache-desktop")

        # Alerts: first the server's own alert API, whatever it holds for this project.
        open_view(f"/alerts?{query}")
        real_alerts = api(base, key, "/v1/alerts")["alerts"]
        real_budgets = api(base, key, "/v1/budgets")["budgets"]
        checks.expect(page.eval("document.querySelector('[data-unavailable=alerts]') === null"), "alerts: the server's alert API is used")
        checks.expect(len(real_budgets) >= 1 and page.eval("document.querySelectorAll('tbody tr').length") == len(real_alerts) + len(real_budgets),
                      f"alerts: {len(real_alerts)} alerts and {len(real_budgets)} budgets listed, as the API says")
        checks.expect(console_errors() == [], "alerts: no console errors")

        def faked(bodies, status=200):
            """Reloads the alerts view with /v1/alerts and /v1/budgets answered by the browser itself."""
            page.call("Fetch.enable", patterns=[{"urlPattern": "*/v1/alerts*"}, {"urlPattern": "*/v1/budgets*"}])
            page.call("Page.navigate", url="about:blank")
            page.call("Page.navigate", url=f"{base}/#/alerts?{query}")
            fulfilled = 0
            deadline = time.time() + 10
            while fulfilled < 2 and time.time() < deadline:
                page.pump(0.1)
                for event in [e for e in page.events if e["method"] == "Fetch.requestPaused"]:
                    page.events.remove(event)
                    body = bodies[0] if "/v1/alerts" in event["params"]["request"]["url"] else bodies[1]
                    page.call("Fetch.fulfillRequest", requestId=event["params"]["requestId"], responseCode=status,
                              responseHeaders=[{"name": "Content-Type", "value": "application/json"}], body=base64.b64encode(json.dumps(body).encode()).decode())
                    fulfilled += 1
            wait_render(0)
            time.sleep(0.2)
            page.call("Fetch.disable")

        # A server without alerting (404): the view says so (the 404s are logged by the browser as
        # failed resource loads, which are not script errors).
        missing = {"error": {"code": "not_found", "message": "no route"}}
        faked((missing, missing), status=404)
        checks.expect(page.eval("document.querySelector('[data-unavailable=alerts]') !== null"), "alerts: 'not available on this server' on 404")
        unexpected = [e for e in console_errors() if "404" not in e]
        checks.expect(unexpected == [], f"alerts: no console errors but the 404s ({unexpected})")
        # Firing and resolved alerts and a budget, with hostile text and links.
        fixture_alerts = {"alerts": [{"id": "a1", "fingerprint": "f1", "rule": "spend_spike", "state": "firing", "severity": "critical",
                                      "labels": {"feature": "chat"}, "value": 12.5, "baseline": 3.1, "threshold": 9, "summary": "Spend <script>x</script> 4x baseline",
                                      "started_at": iso(end - dt.timedelta(hours=2)), "resolved_at": None, "inhibited_by": None, "links": {"dashboard": "javascript:alert(1)"}},
                                     {"id": "a2", "fingerprint": "f2", "rule": "latency_p95", "state": "resolved", "severity": "warning", "labels": {},
                                      "value": 2100, "baseline": 900, "threshold": 1800, "summary": "p95 latency high", "started_at": iso(end - dt.timedelta(hours=6)),
                                      "resolved_at": iso(end - dt.timedelta(hours=5)), "inhibited_by": None, "links": {}}]}
        fixture_budgets = {"budgets": [{"id": "b1", "scope": {"feature": "chat"}, "period": "month", "unit": "usd", "limit": 100, "spent": 82.5, "remaining": 17.5,
                                        "percent_used": 82.5, "burn_rate_per_hour": 1.25, "projected_exhaustion_at": iso(end + dt.timedelta(hours=14)),
                                        "period_start": "2026-12-01T00:00:00Z", "period_end": "2027-01-01T00:00:00Z", "state": "warning"}]}
        faked((fixture_alerts, fixture_budgets))
        checks.expect(page.eval("document.querySelectorAll('tbody tr').length") == 3, "alerts: two alerts and one budget listed")
        checks.expect(page.eval("document.querySelector('tbody tr td:nth-child(4)').textContent") == "Spend <script>x</script> 4x baseline", "alerts: summary shown as text")
        checks.expect(page.eval("[...document.querySelectorAll('a')].every(a => !a.href.startsWith('javascript:'))"), "alerts: a javascript: link is never made")
        checks.expect(page.eval("document.body.textContent.includes('(1 firing)')"), "alerts: firing count")
        checks.expect(console_errors() == [], "alerts with data: no console errors")
        shot("alerts-desktop")

        # Requests: list, then the XSS request's page.
        open_view(f"/requests?{query}")
        listed = api(base, key, "/v1/requests", **scope, limit=50)["requests"]
        checks.expect(page.eval("document.querySelectorAll('tbody tr').length") == len(listed), f"requests: {len(listed)} rows on the first page")
        checks.expect(page.eval("document.querySelector('tbody tr td').textContent") == listed[0]["request_id"], "requests: newest first, as the API")
        before = page.eval("window.__tokenmeter.renderedAt")
        page.eval("document.querySelector('[data-next]').click()")
        wait_render(before)
        cursor = urllib.parse.parse_qs(page.eval("location.hash").split("?", 1)[1])["cursor"][0]
        second = api(base, key, "/v1/requests", **scope, limit=50, cursor=cursor)["requests"]
        checks.expect(page.eval("document.querySelector('tbody tr td').textContent") == second[0]["request_id"], "requests: the next page follows the cursor")
        shot("requests-desktop")
        # The list's own filters: errors only, then a latency floor typed into its form.
        before = page.eval("window.__tokenmeter.renderedAt")
        page.eval("[...document.querySelectorAll('.toggle button')].find(b => b.textContent === 'error').click()")
        wait_render(before)
        errors = api(base, key, "/v1/requests", **scope, limit=50, status="error")["requests"]
        checks.expect(page.eval("[...document.querySelectorAll('tbody tr')].map(tr => tr.cells[0].textContent)") == [r["request_id"] for r in errors],
                      f"requests: the error filter lists the API's {len(errors)} failed calls")
        before = page.eval("window.__tokenmeter.renderedAt")
        page.eval("(() => { const f = document.querySelector('.inline-form'); f.minlatency.value = '3000'; f.requestSubmit(); })()")
        wait_render(before)
        slow = api(base, key, "/v1/requests", **scope, limit=50, status="error", min_latency_ms=3000)["requests"]
        checks.expect("minlatency=3000" in page.eval("location.hash") and
                      page.eval("[...document.querySelectorAll('tbody tr')].map(tr => tr.cells[0].textContent)") == [r["request_id"] for r in slow],
                      f"requests: a latency floor of 3000 ms lists the API's {len(slow)} calls")
        open_view(f"/requests/agent-xss?{query}")
        tree = api(base, key, "/v1/requests/agent-xss")
        checks.close(num(metric("cost")), tree["totals"]["cost_usd"], "request cost")
        checks.close(num(metric("steps")), tree["totals"]["events"], "request steps")
        checks.expect(page.eval("document.querySelectorAll('.tree-step').length") == 3, "request tree shows 3 steps over 2 requests")
        page.eval("document.querySelectorAll('details').forEach(d => d.open = true)")
        shown_prompt = page.eval("document.querySelector('pre[data-field=prompt]').textContent")
        checks.expect(shown_prompt == XSS_PROMPT, "the XSS prompt is shown as text, byte for byte")
        checks.expect(page.eval("document.querySelector('pre[data-field=response]').textContent") == XSS_RESPONSE, "the XSS response is shown as text")
        page.pump(0.5)
        checks.expect(page.eval("window.__xss === undefined"), "no script from event text ran")
        checks.expect(page.eval("document.querySelectorAll('main script, main img, main pre svg, main b').length") == 0, "no element was made from event text")
        checks.expect(console_errors() == [], "requests: no console errors")
        shot("request-desktop")

        # Phone width: no horizontal overflow on any view.
        for view in ["overview", "cost", "latency", "cache", "alerts", "requests", "requests/agent-xss"]:
            open_view(f"/{view}?{query}", width=390, height=844, mobile=True)
            width = page.eval("[document.documentElement.scrollWidth, window.innerWidth]")
            checks.expect(width[0] <= width[1], f"phone {view}: content {width[0]} px fits {width[1]} px")
            shot("phone-" + view.replace("/", "-"))
        checks.expect([e for e in console_errors() if "404" not in e] == [], "phone: no console errors")

        # Render time of the overview after its API calls answered (5 loads at 1280x800).
        for _ in range(5):
            render_times.append(open_view(f"/overview?{query}")["renderMs"])
        render_times.sort()
        print(f"overview render after the API answered (24 h, hourly): median {render_times[len(render_times) // 2]:.1f} ms, max {render_times[-1]:.1f} ms over {len(render_times)} loads", flush=True)
        checks.expect(render_times[-1] < 1000, "overview renders in under 1 s after the API answers")
        month = []
        for stack in ["feature", "model"] * 3:
            month.append(open_view(f"/overview?range=30d&stack={stack}")["renderMs"])
        month.sort()
        rows = len(api(base, key, "/v1/usage", **{"from": "-30d"}, interval="day", group_by="feature")["rows"])
        print(f"overview render after the API answered (30 days, daily, {rows} bucket×feature rows): median {month[len(month) // 2]:.1f} ms, max {month[-1]:.1f} ms over {len(month)} loads", flush=True)
        checks.expect(month[-1] < 1000, "the 30-day overview renders in under 1 s after the API answers")

        # Empty project: the first-event instructions.
        page.eval(f"localStorage.setItem('tokenmeter.readKey', {json.dumps(args.empty_read_key)})")
        open_view(f"/overview?{query}")
        checks.expect(page.eval("document.querySelector('[data-empty]') !== null && document.querySelector('[data-empty] pre').textContent.includes('/v1/events')"),
                      "empty project: the curl example for a first event")
        shot("overview-empty")
        checks.expect(console_errors() == [], "empty: no console errors")

        # A bad key: a clear message and the key panel.
        page.eval("localStorage.setItem('tokenmeter.readKey', 'tm_read_not_a_real_key_0000000000')")
        open_view(f"/overview?{query}")
        checks.expect(page.eval("document.querySelector('[data-error=unauthorized]') !== null"), "bad key: 'read key refused'")
        checks.expect(page.eval("!document.getElementById('key-panel').hidden"), "bad key: the key panel opens")
        shot("bad-key")
        console_errors()

        # Server unreachable: every API call fails at the network level.
        page.eval(f"localStorage.setItem('tokenmeter.readKey', {json.dumps(key)})")
        page.call("Network.enable")
        page.call("Network.setBlockedURLs", urls=["*/v1/*"])
        open_view(f"/overview?{query}")
        checks.expect(page.eval("document.querySelector('[data-error=unreachable]') !== null"), "unreachable: 'server unreachable'")
        page.call("Network.setBlockedURLs", urls=[])
        shot("unreachable")
    finally:
        browser.close()
    print(f"{checks.passed} passed, {checks.failed} failed", flush=True)
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
