/**
 * A minimal OTLP/HTTP JSON collector on loopback: what Deno's built-in
 * OpenTelemetry exports (traces, metrics, logs) lands here for tests to read.
 *
 * @module
 */

/** A span as OTLP JSON carries it (the fields the tests read). */
export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes?: { key: string; value: Record<string, unknown> }[];
  service: string;
}

/** A running collector. */
export interface Collector {
  /** The OTLP endpoint to export to. */
  endpoint: string;
  /** Every span received, with its resource's service.name. */
  spans: OtlpSpan[];
  /** Every request body received, raw, for searching. */
  bodies: string[];
  /** Metric names received. */
  metricNames: Set<string>;
  /** Stops the collector. */
  close(): Promise<void>;
}

interface ResourceAttributes {
  resource?: { attributes?: { key: string; value: { stringValue?: string } }[] };
}

/** Starts a collector on a free loopback port. */
export function startCollector(): Collector {
  const spans: OtlpSpan[] = [];
  const bodies: string[] = [];
  const metricNames = new Set<string>();
  const serviceOf = (r: ResourceAttributes) =>
    r.resource?.attributes?.find((a) => a.key === "service.name")?.value.stringValue ?? "";
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (request) => {
    const body = await request.text();
    bodies.push(body);
    const path = new URL(request.url).pathname;
    const json = JSON.parse(body || "{}");
    if (path === "/v1/traces") {
      for (const resource of json.resourceSpans ?? []) {
        for (const scope of resource.scopeSpans ?? []) {
          for (const span of scope.spans ?? []) spans.push({ ...span, service: serviceOf(resource) });
        }
      }
    }
    if (path === "/v1/metrics") {
      for (const resource of json.resourceMetrics ?? []) {
        for (const scope of resource.scopeMetrics ?? []) {
          for (const metric of scope.metrics ?? []) metricNames.add(metric.name);
        }
      }
    }
    return Response.json({});
  });
  return {
    endpoint: `http://127.0.0.1:${server.addr.port}`,
    spans,
    bodies,
    metricNames,
    close: () => server.shutdown(),
  };
}
