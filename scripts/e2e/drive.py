"""Drives a real instrumentation library against the fake OpenAI server, exporting to the OTLP
endpoint named by the standard variables (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_HEADERS,
OTEL_EXPORTER_OTLP_COMPRESSION), exactly as an instrumented app would.

    drive.py --library openai-v2|traceloop|openinference|langfuse --protocol protobuf|json --service NAME --ledger FILE
                [--openai-base-url URL]

Without --openai-base-url the fake OpenAI server (fake_openai.py) runs inside this process and its
ledger (what it billed) is written to FILE at the end.

The Langfuse SDK builds its own exporter (protobuf, to $LANGFUSE_BASE_URL/api/public/otel/v1/traces with
Basic credentials from LANGFUSE_PUBLIC_KEY/LANGFUSE_SECRET_KEY), so for it --protocol must be
protobuf and a refused export shows up as missing numbers rather than as an exit status.

Calls: a chat, a streamed chat (with usage), a tool-calling exchange (two calls), a 429 and a 500
(no client retries). Exits non-zero when any export was not accepted (non-2xx), so a caller cannot
mistake a refused export for a passing run.
"""
import argparse
import json
import os
import sys

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor, LogRecordExportResult

failures = []


class Checked:
    """Wraps a span or log exporter and remembers any export that failed."""
    def __init__(self, inner, success, label):
        self.inner, self.success, self.label = inner, success, label
    def export(self, batch):
        result = self.inner.export(batch)
        if result != self.success:
            failures.append("%s: %s" % (self.label, result))
        return result
    def shutdown(self):
        self.inner.shutdown()
    def force_flush(self, timeout_millis=30000):
        return True


def exporters(protocol):
    if protocol == "json":
        from opentelemetry.exporter.otlp.json.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.exporter.otlp.json.http._log_exporter import OTLPLogExporter
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
    return (Checked(OTLPSpanExporter(), SpanExportResult.SUCCESS, "spans"),
            Checked(OTLPLogExporter(), LogRecordExportResult.SUCCESS, "logs"))


def calls(client, workflow=lambda f: f):
    import openai
    messages = [{"role": "user", "content": "What is the weather in Paris?"}]
    client.chat.completions.create(model="gpt-4o-mini", messages=messages, user="u-e2e")
    stream = client.chat.completions.create(model="gpt-4o-mini", messages=messages, stream=True,
                                            stream_options={"include_usage": True})
    for _ in stream:
        pass
    tools = [{"type": "function", "function": {"name": "get_weather", "description": "Weather of a city",
              "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]
    first = client.chat.completions.create(model="gpt-4o-mini", messages=messages, tools=tools)
    call = first.choices[0].message.tool_calls[0]
    follow_up = messages + [first.choices[0].message.model_dump(exclude_none=True),
                            {"role": "tool", "tool_call_id": call.id, "content": json.dumps({"sky": "sunny"})}]
    client.chat.completions.create(model="gpt-4o-mini", messages=follow_up, tools=tools)
    for model, error in (("fake-429", openai.RateLimitError), ("fake-500", openai.InternalServerError)):
        try:
            client.chat.completions.create(model=model, messages=messages)
            failures.append("%s did not fail" % model)
        except error:
            pass


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--library", required=True, choices=["openai-v2", "traceloop", "openinference", "langfuse"])
    parser.add_argument("--protocol", required=True, choices=["protobuf", "json"])
    parser.add_argument("--openai-base-url")
    parser.add_argument("--service", required=True)
    parser.add_argument("--ledger", help="write the in-process fake provider's ledger here")
    args = parser.parse_args()
    provider = None
    if not args.openai_base_url:
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import fake_openai
        provider = fake_openai
        args.openai_base_url = "http://127.0.0.1:%d/v1" % fake_openai.start().server_port

    import openai
    span_exporter, log_exporter = exporters(args.protocol)
    client = openai.OpenAI(base_url=args.openai_base_url, api_key="sk-fake", max_retries=0)
    if args.library == "openai-v2":
        from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor
        resource = Resource.create({"service.name": args.service})
        tracer_provider = TracerProvider(resource=resource)
        tracer_provider.add_span_processor(SimpleSpanProcessor(span_exporter))
        logger_provider = LoggerProvider(resource=resource)
        logger_provider.add_log_record_processor(SimpleLogRecordProcessor(log_exporter))
        OpenAIInstrumentor().instrument(tracer_provider=tracer_provider, logger_provider=logger_provider)
        calls(client)
        tracer_provider.shutdown()
        logger_provider.shutdown()
    elif args.library == "openinference":
        from openinference.instrumentation.openai import OpenAIInstrumentor
        tracer_provider = TracerProvider(resource=Resource.create({"service.name": args.service}))
        tracer_provider.add_span_processor(SimpleSpanProcessor(span_exporter))
        OpenAIInstrumentor().instrument(tracer_provider=tracer_provider)
        calls(client)
        tracer_provider.shutdown()
    elif args.library == "langfuse":
        if args.protocol != "protobuf":
            parser.error("the Langfuse SDK exports protobuf only")
        from langfuse import get_client
        from langfuse.openai import openai as langfuse_openai
        langfuse_client = langfuse_openai.OpenAI(base_url=args.openai_base_url, api_key="sk-fake", max_retries=0)
        calls(langfuse_client)
        get_client().shutdown()
    else:
        from traceloop.sdk import Traceloop
        from traceloop.sdk.decorators import workflow
        Traceloop.init(app_name=args.service, exporter=span_exporter, disable_batch=True, telemetry_enabled=False,
                       should_enrich_metrics=False)
        workflow(name="weather_report")(calls)(client)
        from opentelemetry import trace
        trace.get_tracer_provider().shutdown()
    if provider and args.ledger:
        with open(args.ledger, "w") as f:
            json.dump(provider.billed(), f)
    if failures:
        print("export or call failures: " + "; ".join(failures), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
