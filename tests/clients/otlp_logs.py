"""Sends log records to an OTLP/HTTP endpoint with the stock OpenTelemetry Python SDK, configured
only by the standard OTEL_* environment variables (OTEL_EXPORTER_OTLP_LOGS_ENDPOINT,
OTEL_EXPORTER_OTLP_LOGS_COMPRESSION, OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES): no Opsline code.

Usage: python otlp_logs.py COUNT
Writes COUNT error records from the logger `checkout.payments` inside one span, flushes, and prints
the span's trace id (hex). Exits 1 when the exporter reported a failure.
"""

import logging
import sys

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider


class Recording(OTLPLogExporter):
    """The stock exporter, remembering whether every export succeeded."""

    failed = False

    def export(self, batch):
        result = super().export(batch)
        if result.name != "SUCCESS":
            Recording.failed = True
        return result


def main() -> int:
    count = int(sys.argv[1])
    resource = Resource.create()
    trace.set_tracer_provider(TracerProvider(resource=resource))
    provider = LoggerProvider(resource=resource)
    provider.add_log_record_processor(SimpleLogRecordProcessor(Recording()))
    log = logging.getLogger("checkout.payments")
    log.addHandler(LoggingHandler(level=logging.INFO, logger_provider=provider))
    log.setLevel(logging.INFO)
    log.propagate = False
    with trace.get_tracer("opsline-otlp-client").start_as_current_span("charge") as span:
        for i in range(count):
            log.error("payment provider timed out after %d ms", 3000 + i)
        trace_id = format(span.get_span_context().trace_id, "032x")
    provider.shutdown()
    print(trace_id)
    return 1 if Recording.failed else 0


if __name__ == "__main__":
    sys.exit(main())
