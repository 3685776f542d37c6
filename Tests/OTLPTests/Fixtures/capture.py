"""Regenerates the OTLP fixtures in this folder from the real OpenTelemetry Python SDK and exporter.

    python3 -m venv .venv-otlp && .venv-otlp/bin/pip install opentelemetry-sdk opentelemetry-exporter-otlp-proto-http
    .venv-otlp/bin/python Tests/OTLPTests/Fixtures/capture.py Tests/OTLPTests/Fixtures

A capture server on loopback records each body the exporter posts (as sent: gzip stays gzip).
The spans carry GenAI attributes the way the instrumentation libraries set them; ids are fixed so
tests can name them.
"""
import http.server, sys, threading, os, time, logging
from opentelemetry import trace, _logs
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.id_generator import IdGenerator
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.trace import SpanKind, Status, StatusCode

out = sys.argv[1] if len(sys.argv) > 1 else "."
captured = []

class Capture(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        captured.append((self.path, dict(self.headers), body))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *args):
        pass

server = http.server.HTTPServer(("127.0.0.1", 0), Capture)
threading.Thread(target=server.serve_forever, daemon=True).start()
endpoint = f"http://127.0.0.1:{server.server_port}"

class FixedIds(IdGenerator):
    def __init__(self):
        self.spans = iter(range(0x1001, 0x2000))
    def generate_trace_id(self):
        return 0x0af7651916cd43dd8448eb211c80319c
    def generate_span_id(self):
        return next(self.spans)

def provider(compression):
    tp = TracerProvider(resource=Resource.create({"service.name": "support-bot", "deployment.environment.name": "prod"}),
                        id_generator=FixedIds())
    tp.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint + "/v1/traces", compression=compression), schedule_delay_millis=60_000))
    return tp

def emit_agent_trace(tp):
    """An agent run: agent span > OpenAI chat (cached tokens inside input) + tool call + Anthropic chat (OpenLLMetry style)."""
    tracer = tp.get_tracer("opentelemetry.instrumentation.openai_v2", "2.1b0")
    t0 = 1_764_000_000_000_000_000  # 2025-11-24T16:00:00Z
    agent = tracer.start_span("invoke_agent triage", kind=SpanKind.INTERNAL, start_time=t0, attributes={
        "gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "triage", "user.id": "u-42",
        "gen_ai.conversation.id": "conv-7"})
    ctx = trace.set_span_in_context(agent)
    chat = tracer.start_span("chat gpt-4o-mini", kind=SpanKind.CLIENT, context=ctx, start_time=t0 + 10_000_000, attributes={
        "gen_ai.operation.name": "chat", "gen_ai.system": "openai", "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.response.model": "gpt-4o-mini-2024-07-18", "gen_ai.usage.input_tokens": 1200,
        "gen_ai.usage.output_tokens": 300, "gen_ai.usage.cache_read.input_tokens": 200,
        "gen_ai.response.finish_reasons": ("stop",)})
    chat.add_event("gen_ai.first_token", timestamp=t0 + 260_000_000)
    chat.end(end_time=t0 + 850_000_000)
    tool = tracer.start_span("execute_tool lookup_order", kind=SpanKind.INTERNAL, context=ctx, start_time=t0 + 860_000_000, attributes={
        "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "lookup_order", "gen_ai.tool.call.id": "call_1"})
    tool.end(end_time=t0 + 900_000_000)
    claude = tp.get_tracer("opentelemetry.instrumentation.anthropic", "0.47.0").start_span("anthropic.chat", kind=SpanKind.CLIENT, context=ctx,
        start_time=t0 + 910_000_000, attributes={
        "gen_ai.system": "Anthropic", "llm.request.type": "completion", "gen_ai.request.model": "claude-3-5-sonnet-20241022",
        "gen_ai.response.model": "claude-3-5-sonnet-20241022", "gen_ai.usage.input_tokens": 4500,
        "gen_ai.usage.output_tokens": 200, "gen_ai.usage.cache_read_input_tokens": 3000,
        "gen_ai.usage.cache_creation_input_tokens": 500, "llm.usage.total_tokens": 4700})
    claude.end(end_time=t0 + 2_910_000_000)
    failing = tracer.start_span("chat gpt-4o-mini", kind=SpanKind.CLIENT, context=ctx, start_time=t0 + 3_000_000_000, attributes={
        "gen_ai.operation.name": "chat", "gen_ai.system": "openai", "gen_ai.request.model": "gpt-4o-mini",
        "error.type": "<class 'openai.RateLimitError'>"})
    failing.set_status(Status(StatusCode.ERROR, "Error code: 429"))
    failing.end(end_time=t0 + 3_100_000_000)
    agent.end(end_time=t0 + 3_200_000_000)

def emit_logs():
    lp = LoggerProvider(resource=Resource.create({"service.name": "support-bot"}))
    lp.add_log_record_processor(BatchLogRecordProcessor(OTLPLogExporter(endpoint=endpoint + "/v1/logs"), schedule_delay_millis=60_000))
    logger = lp.get_logger("opentelemetry.instrumentation.openai_v2")
    from opentelemetry.trace import SpanContext, TraceFlags, NonRecordingSpan
    span_ctx = SpanContext(trace_id=0x0af7651916cd43dd8448eb211c80319c, span_id=0x1002, is_remote=False, trace_flags=TraceFlags(1))
    ctx = trace.set_span_in_context(NonRecordingSpan(span_ctx))
    t0 = 1_764_000_000_000_000_000
    logger.emit(timestamp=t0 + 10_000_000, context=ctx, body={"content": "Where is my order 42?"},
                event_name="gen_ai.user.message", attributes={"gen_ai.system": "openai"})
    logger.emit(timestamp=t0 + 850_000_000, context=ctx,
                body={"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "It ships today."}},
                event_name="gen_ai.choice", attributes={"gen_ai.system": "openai"})
    lp.shutdown()

tp = provider(None)
emit_agent_trace(tp)
tp.shutdown()
tp = provider(Compression.Gzip)
emit_agent_trace(tp)
tp.shutdown()
emit_logs()
server.shutdown()

# Batch processors flush everything on shutdown: one request per signal and compression.
names = {}
for path, headers, body in captured:
    kind = "traces" if path.endswith("traces") else "logs"
    gz = headers.get("Content-Encoding") == "gzip"
    key = f"{kind}{'-gzip' if gz else ''}"
    names[key] = names.get(key, 0) + 1
    name = f"python-sdk-{key}-{names[key]}.{'pb.gz' if gz else 'pb'}"
    with open(os.path.join(out, name), "wb") as f:
        f.write(body)
    print(name, len(body), {k: v for k, v in headers.items() if k.lower() in ("content-type", "content-encoding", "user-agent")})

    # The OTLP/JSON form of the same request (what a JSON exporter sends): lowerCamelCase, enums as
    # integers, int64 as strings, and trace/span ids as hex (not proto3-JSON base64).
    if not gz:
        import base64, json
        from google.protobuf.json_format import MessageToDict
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
        from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
        message = (ExportTraceServiceRequest if kind == "traces" else ExportLogsServiceRequest)()
        message.ParseFromString(body)
        def hexify(value):
            if isinstance(value, dict):
                return {k: (base64.b64decode(v).hex() if k in ("traceId", "spanId", "parentSpanId") else hexify(v)) for k, v in value.items()}
            if isinstance(value, list):
                return [hexify(v) for v in value]
            return value
        document = hexify(MessageToDict(message, use_integers_for_enums=True))
        json_name = name.replace(".pb", ".json")
        with open(os.path.join(out, json_name), "w") as f:
            json.dump(document, f, indent=1)
        print(json_name)
