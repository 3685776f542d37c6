#!/usr/bin/env bash
# Regenerates the real-library fixtures in Tests/OTLPTests/Fixtures/e2e: each library's exports,
# as sent, captured by fake_openai.py --capture, plus the ledger of what the fake provider billed.
# Needs .venv-e2e (./scripts/test creates it).
set -euo pipefail
cd "$(dirname "$0")/../.."
python=".venv-e2e/bin/python"
out="Tests/OTLPTests/Fixtures/e2e"
rm -rf "$out"
mkdir -p "$out"
capture() {   # library protocol compression
    local name="$1-$2${3:+-$3}" dir
    dir="$(mktemp -d)"
    "$python" scripts/e2e/fake_openai.py --capture "$dir" > "$dir.port" &
    local pid=$!
    while [ ! -s "$dir.port" ]; do sleep 0.1; done
    OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$(cat "$dir.port")" OTEL_EXPORTER_OTLP_HEADERS="Authorization=Bearer capture" \
    OTEL_EXPORTER_OTLP_COMPRESSION="${3:-none}" OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=EVENT_ONLY \
    OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental TRACELOOP_METRICS_ENABLED=false TRACELOOP_LOGGING_ENABLED=false \
    TRACELOOP_TRACE_CONTENT=true LANGFUSE_BASE_URL="http://127.0.0.1:$(cat "$dir.port")" LANGFUSE_PUBLIC_KEY=pk-capture \
    LANGFUSE_SECRET_KEY=capture \
        "$python" scripts/e2e/drive.py --library "$1" --protocol "$2" --service "fixture-$1" --ledger "$out/$name.ledger.json" 2>/dev/null
    kill "$pid"
    for file in "$dir"/*; do mv "$file" "$out/$name-$(basename "$file")"; done
    rm -rf "$dir" "$dir.port"
}
capture openai-v2 protobuf
capture traceloop json gzip
capture openinference protobuf
capture langfuse protobuf
ls -l "$out"
