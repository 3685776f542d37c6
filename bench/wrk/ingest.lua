-- wrk script for bench/ingest: POST /v1/events with a unique body per request.
--
-- usage: wrk ... -s bench/wrk/ingest.lua URL -- <ingest key> <batch size> <text 0|1> <run tag>
--
-- Each thread builds one body template at start-up (realistic, varied field values; with text=1
-- every event carries ~1.5 KB of prompt+response). Every '@' in the template is an id prefix that is
-- replaced per request with "<run tag>t<thread>r<counter>", so every event of every request has a
-- unique request_id (and trace_id), and nothing is deduplicated. done() prints one JSON line
-- ("WRKJSON {...}") with counts and latency percentiles for bench/ingest to parse.

local thread_id = 0
local threads = {}

function setup(thread)
    thread:set("tid", thread_id)
    thread_id = thread_id + 1
    table.insert(threads, thread)
end

local features = { "chat", "summarize", "search", "classify", "extract", "translate", "agent", "autocomplete" }
local models = { "gpt-4o-mini", "gpt-4o-mini", "gpt-4o-mini", "gpt-4o" }
local environments = { "production", "production", "production", "staging" }
local words = {
    "the", "customer", "asked", "about", "refund", "policy", "order", "shipping", "delay", "please",
    "summarize", "following", "document", "contract", "clause", "liability", "payment", "within", "thirty",
    "days", "model", "answer", "context", "retrieved", "passage", "invoice", "account", "support", "ticket",
    "escalate", "priority", "assistant", "should", "respond", "politely", "and", "concisely", "with", "a",
    "list", "of", "steps", "to", "reset", "password", "user", "reports", "error", "when", "uploading",
    "file", "larger", "than", "limit", "quarterly", "revenue", "grew", "percent", "compared", "previous",
    "year", "driven", "by", "enterprise", "subscriptions", "translate", "into", "French", "German", "JSON",
}

local function sentence_text(bytes)
    local parts = {}
    local n = 0
    while n < bytes do
        local w = words[math.random(#words)]
        parts[#parts + 1] = w
        n = n + #w + 1
    end
    return table.concat(parts, " ") .. "."
end

local body_pieces = {}
local key
local prefix_base
local counter = 0

function init(args)
    key = args[1]
    local batch = tonumber(args[2])
    local with_text = args[3] == "1"
    local run_tag = args[4] or "r"
    math.randomseed(1000 + tid * 7919 + #run_tag)
    prefix_base = run_tag .. "t" .. tid .. "r"

    local texts = {}
    if with_text then
        for i = 1, 32 do
            -- ~1000 B prompt + ~500 B response = ~1.5 KB per event
            texts[i] = { sentence_text(1000), sentence_text(500) }
        end
    end
    local ts = os.date("!%Y-%m-%dT%H:%M:%S", os.time())
    local events = {}
    for i = 0, batch - 1 do
        local tokens_in = math.random(50, 4000)
        local latency = math.random(200, 6000) + math.random()
        local fields = {
            string.format('"request_id":"@-%d"', i),
            string.format('"trace_id":"tr-@-%d"', math.floor(i / 4)),
            string.format('"session_id":"s-%d"', math.random(1, 20000)),
            string.format('"user_id":"u-%d"', math.random(1, 5000)),
            string.format('"feature":"%s"', features[math.random(#features)]),
            string.format('"environment":"%s"', environments[math.random(#environments)]),
            '"provider":"openai"',
            string.format('"model":"%s"', models[math.random(#models)]),
            string.format('"tokens_in":%d', tokens_in),
            string.format('"tokens_out":%d', math.random(10, 1500)),
            string.format('"cached_tokens":%d', math.random(0, tokens_in)),
            string.format('"latency_ms":%.1f', latency),
            string.format('"ttft_ms":%.1f', latency * 0.25),
            string.format('"status":"%s"', math.random(100) <= 2 and "error" or "ok"),
            string.format('"timestamp":"%s.%03dZ"', ts, i % 1000),
        }
        if with_text then
            local t = texts[(i % #texts) + 1]
            fields[#fields + 1] = string.format('"prompt":"%s"', t[1])
            fields[#fields + 1] = string.format('"response":"%s"', t[2])
        end
        events[#events + 1] = "{" .. table.concat(fields, ",") .. "}"
    end
    -- Split once at every '@': a request then joins the pieces with its prefix (one copy of the
    -- body) instead of pattern-scanning the whole template with gsub, which for batches of 1000
    -- with text (1.5 MB) cost this client a third of a core that the server under test shares.
    local template = "[" .. table.concat(events, ",") .. "]"
    local start = 1
    while true do
        local at = string.find(template, "@", start, true)
        if not at then
            body_pieces[#body_pieces + 1] = string.sub(template, start)
            break
        end
        body_pieces[#body_pieces + 1] = string.sub(template, start, at - 1)
        start = at + 1
    end
    wrk.headers["Content-Type"] = "application/json"
    wrk.headers["Authorization"] = "Bearer " .. key
end

function request()
    counter = counter + 1
    local body = table.concat(body_pieces, prefix_base .. counter)
    return wrk.format("POST", "/v1/events", nil, body)
end

function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format(
        'WRKJSON {"requests":%d,"duration_us":%d,"bytes":%d,"connect_errors":%d,"read_errors":%d,"write_errors":%d,' ..
        '"status_errors":%d,"timeouts":%d,"lat_mean_us":%.1f,"lat_max_us":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"p999_us":%d}\n',
        summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
        latency.mean, latency.max, latency:percentile(50), latency:percentile(90), latency:percentile(99),
        latency:percentile(99.9)))
end
