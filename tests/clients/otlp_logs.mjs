// Sends log records to an OTLP/HTTP endpoint in the OTLP/JSON encoding with the stock
// OpenTelemetry JavaScript SDK (@opentelemetry/exporter-logs-otlp-http), configured only by the
// standard OTEL_* environment variables (OTEL_EXPORTER_OTLP_LOGS_ENDPOINT, OTEL_SERVICE_NAME,
// OTEL_RESOURCE_ATTRIBUTES): no Opsline code.
//
// Usage: node otlp_logs.mjs COUNT
// Writes COUNT error records inside one (random) span context, flushes, and prints its trace id.
// Exits 1 when an export failed.
import { randomBytes } from "node:crypto";
import { ROOT_CONTEXT, trace, TraceFlags } from "@opentelemetry/api";
import { SeverityNumber } from "@opentelemetry/api-logs";
import { OTLPLogExporter } from "@opentelemetry/exporter-logs-otlp-http";
import { detectResources, envDetector } from "@opentelemetry/resources";
import { LoggerProvider, SimpleLogRecordProcessor } from "@opentelemetry/sdk-logs";

let failed = false;
class Recording extends OTLPLogExporter {
  export(records, done) {
    super.export(records, (result) => {
      if (result.code !== 0) {
        failed = true;
        console.error("export failed:", result.error?.message);
      }
      done(result);
    });
  }
}

const count = Number(process.argv[2] ?? "1");
const resource = detectResources({ detectors: [envDetector] });
const provider = new LoggerProvider({
  resource,
  processors: [new SimpleLogRecordProcessor(new Recording())],
});
const logger = provider.getLogger("inventory.sync");
const spanContext = {
  traceId: randomBytes(16).toString("hex"),
  spanId: randomBytes(8).toString("hex"),
  traceFlags: TraceFlags.SAMPLED,
};
const context = trace.setSpanContext(ROOT_CONTEXT, spanContext);
for (let i = 0; i < count; i++) {
  logger.emit({
    severityNumber: SeverityNumber.WARN,
    severityText: "WARN",
    body: `stock level below threshold for sku ${1000 + i}`,
    attributes: { "warehouse.zone": "b", attempt: i },
    context,
  });
}
await provider.forceFlush();
await provider.shutdown();
console.log(spanContext.traceId);
process.exit(failed ? 1 : 0);
