/**
 * OpenTelemetry hooks. Deno exports traces and metrics itself when started
 * with `OTEL_DENO=true` (and an OTLP endpoint); without it the API below is a
 * no-op, so instrumentation costs nothing when nobody is listening.
 *
 * @module
 */
import {
  type Attributes,
  type Meter,
  metrics,
  type Span,
  SpanStatusCode,
  trace,
  type Tracer,
} from "@opentelemetry/api";

/** The tracer every bookstore span is created with. */
export const tracer: Tracer = trace.getTracer("bookstore", "0.1.0");

/** The meter every bookstore metric is created with. */
export const meter: Meter = metrics.getMeter("bookstore", "0.1.0");

/**
 * Runs `fn` inside an active span named `name`, recording an exception and
 * error status when it throws.
 */
export function withSpan<T>(
  name: string,
  options: { attributes?: Attributes; fn: (span: Span) => Promise<T> },
): Promise<T> {
  return tracer.startActiveSpan(name, { attributes: options.attributes }, async (span) => {
    try {
      return await options.fn(span);
    } catch (error) {
      span.recordException(error instanceof Error ? error : String(error));
      span.setStatus({ code: SpanStatusCode.ERROR, message: String(error) });
      throw error;
    } finally {
      span.end();
    }
  });
}
