/**
 * OpenTelemetry from the running services (Deno's built-in exporter, OTLP
 * JSON to a collector in this test): one trace per checkout across every
 * service, spans named after RPCs and events with order id and vector clock,
 * metrics, logs correlated by trace id, and never card data or contacts.
 */
import assert from "node:assert/strict";
import { startCluster } from "./support/cluster.ts";
import { startCollector } from "./support/otlp.ts";
import { cardNumber, validOrder } from "./support/orders.ts";
import { eventually } from "./support/wait.ts";

Deno.test("a checkout is one trace across every service, with no card data in it", async () => {
  const collector = startCollector();
  try {
    await using cluster = await startCluster({
      only: ["order_queue", "transaction_verification", "fraud_detection", "suggestions", "orchestrator"],
      env: {
        OTEL_DENO: "true",
        OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint,
        OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
        OTEL_BSP_SCHEDULE_DELAY: "200",
        OTEL_METRIC_EXPORT_INTERVAL: "500",
      },
    });
    const card = cardNumber();
    const contact = `tracey.${crypto.randomUUID().slice(0, 8)}@example.com`;
    const { body } = await cluster.post(
      "/checkout",
      validOrder({
        user: { name: "Tracey Span", contact },
        creditCard: { number: card, expirationDate: "12/39", cvv: "987" },
      }),
    );
    assert.equal(body.status, "Order Approved");

    const rpcs = [
      "bookstore.v1.TransactionVerificationService/InitOrder",
      "bookstore.v1.FraudDetectionService/Advance",
      "bookstore.v1.SuggestionsService/Advance",
      "bookstore.v1.OrderEventsService/ReportOutcome",
      "bookstore.v1.OrderQueueService/Enqueue",
    ];
    // Spans arrive in batches from five processes: wait until the whole checkout is in.
    const trace = await eventually(() => {
      const checkout = collector.spans.find((s) =>
        s.name === "checkout" && s.attributes?.some((a) => a.value.stringValue === body.orderId)
      );
      if (!checkout) return undefined;
      const spans = collector.spans.filter((s) => s.traceId === checkout.traceId);
      const names = new Set(spans.map((s) => s.name));
      const events = spans.filter((s) => s.name.startsWith("event ")).map((s) => s.name).sort();
      const complete = events.length === 6 && rpcs.every((rpc) => names.has(rpc));
      return complete && { spans, events, services: new Set(spans.map((s) => s.service)) };
    }, { timeoutMs: 20_000, message: "the checkout's spans from every service" });

    assert.deepEqual(
      [...trace.services].sort(),
      ["fraud_detection", "orchestrator", "order_queue", "suggestions", "transaction_verification"],
    );
    assert.deepEqual(trace.events, ["event a", "event b", "event c", "event d", "event e", "event f"]);
    const e = trace.spans.find((s) => s.name === "event e")!;
    const clock = e.attributes!.find((a) => a.key === "bookstore.vector_clock")!.value.stringValue as string;
    assert.equal(JSON.parse(clock).fraud_detection, 2);

    await eventually(
      () =>
        ["bookstore.checkout.orders", "bookstore.checkout.duration", "bookstore.queue.depth"].every((m) =>
          collector.metricNames.has(m)
        ),
      { message: "the checkout and queue metrics" },
    );
    const all = collector.bodies.join("\n");
    for (const secret of [card, card.slice(0, 12), contact]) {
      assert.ok(!all.includes(secret), `telemetry contains ${secret}`);
    }
    assert.ok(!/"key":\s*"[^"]*(cvv|card\.?number)/i.test(all), "no attribute for card number or CVV");
    const correlated = cluster.supervisor.lines("fraud_detection").filter((line) => line.includes(body.orderId));
    assert.ok(
      correlated.length > 0 && correlated.every((line) => line.includes(`"traceId":"${trace.spans[0].traceId}"`)),
    );
  } finally {
    await collector.close();
  }
});
