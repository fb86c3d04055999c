/**
 * OpenTelemetry hooks. Deno exports traces and metrics itself when started
 * with `OTEL_DENO=true` (and an OTLP endpoint); without it the API below is a
 * no-op, so instrumentation costs nothing when nobody is listening.
 *
 * @module
 */
import {
  type Attributes,
  INVALID_SPAN_CONTEXT,
  type Meter,
  metrics,
  ProxyTracerProvider,
  type Span,
  SpanStatusCode,
  trace,
  type Tracer,
} from "@opentelemetry/api";

/** The tracer every bookstore span is created with. */
export const tracer: Tracer = trace.getTracer("bookstore", "0.1.0");

/** The meter every bookstore metric is created with. */
export const meter: Meter = metrics.getMeter("bookstore", "0.1.0");

// The API's own no-op provider, which it delegates to until a real one is registered.
const NoopTracerProvider = new ProxyTracerProvider().getDelegate().constructor;
// The span `withSpan` hands out while nobody collects traces: every call on it is a no-op.
const NOT_RECORDING: Span = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);
let tracing: boolean | undefined;

/**
 * Whether traces are being collected: a tracer provider has been
 * registered (Deno registers its own with `OTEL_DENO=true`), so spans are
 * real. Decided at the first span, when the runtime has set up telemetry.
 */
export function isTracing(): boolean {
  if (tracing === undefined) {
    const provider = trace.getTracerProvider();
    tracing = !(provider instanceof ProxyTracerProvider && provider.getDelegate() instanceof NoopTracerProvider);
  }
  return tracing;
}

/**
 * Runs `fn` inside an active span named `name`, recording an exception and
 * error status when it throws. While nobody collects traces ({@linkcode
 * isTracing}), `fn` runs at once with a span that records nothing, which
 * costs an RPC nothing.
 */
export function withSpan<T>(
  name: string,
  options: { attributes?: Attributes; fn: (span: Span) => Promise<T> },
): Promise<T> {
  if (!isTracing()) return options.fn(NOT_RECORDING);
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
