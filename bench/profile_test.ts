/** Where a profile's time goes: frames are sorted into kinds of work by their function and script. */
import assert from "node:assert/strict";
import { categorise, inclusive, kindOf } from "./profile.ts";

const npm = (name: string) => `file:///root/.cache/deno/npm/registry.npmjs.org/${name}/1.0.0/dist/index.js`;

Deno.test("frames are sorted into kinds of work", () => {
  const cases: [string, string, string][] = [
    ["(garbage collector)", "", "garbage collection"],
    ["op_kv_atomic_write", "", "Deno KV"],
    ["serialize", "ext:core/01_core.js", "Deno KV"],
    ["mainFetch", "ext:deno_fetch/26_fetch.js", "HTTP client (fetch)"],
    ["op_fetch_send", "", "HTTP client (fetch)"],
    ["nativeDispatch", "ext:deno_http/00_serve.ts", "HTTP server (Deno.serve)"],
    [
      "readableStreamCollectIntoUint8Array",
      "ext:deno_web/06_streams.js",
      "other runtime (bodies, streams, headers, promises)",
    ],
    ["safeParse", npm("zod"), "zod"],
    ["dispatch", npm("hono"), "Hono"],
    ["startActiveSpan", npm("@opentelemetry/api"), "OpenTelemetry API"],
    ["parseJsonBody", "file:///repo/lib/rpc/server.ts", "our RPC layer (lib/rpc, deadlines; JSON parse and stringify)"],
    ["schedule", "file:///repo/lib/deadlines.ts", "our RPC layer (lib/rpc, deadlines; JSON parse and stringify)"],
    ["similarTo", "file:///repo/services/suggestions/similarity.ts", "the service's own work"],
    ["encodeKey", "file:///repo/lib/store/etcd/keys.ts", "etcd client (lib/store/etcd: keys, values, transactions)"],
    ["op_v8_new_serializer", "", "V8 serialization of values (node:v8)"],
    ["writeValue", "ext:deno_node/v8.ts", "V8 serialization of values (node:v8)"],
  ];
  for (const [functionName, url, kind] of cases) assert.equal(kindOf({ functionName, url }), kind, functionName);
});

Deno.test("a profile's busy time is summed by kind, idle time left out", () => {
  const frame = (id: number, functionName: string, url = "") => ({
    id,
    callFrame: { functionName, url, lineNumber: 0 },
  });
  const profile = {
    nodes: [frame(1, "(idle)"), frame(2, "(garbage collector)"), frame(3, "safeParse", npm("zod"))],
    samples: [1, 2, 3, 3, 1],
    timeDeltas: [5000, 1000, 2000, 2000, 5000],
  };
  assert.deepEqual(categorise(profile), [["zod", 4], ["garbage collection", 1]]);
});

Deno.test("inclusive time counts the frames picked and every frame they called, and nothing idle", () => {
  const frame = (id: number, functionName: string, children: number[] = [], url = "") => ({
    id,
    callFrame: { functionName, url, lineNumber: 0 },
    children,
  });
  const profile = {
    nodes: [
      frame(1, "(root)", [2, 3, 6]),
      frame(2, "call", [4], "file:///repo/lib/store/etcd/client.ts"),
      frame(3, "handler", [5], "file:///repo/services/fraud_detection/app.ts"),
      frame(4, "mainFetch", [], "ext:deno_fetch/26_fetch.js"),
      frame(5, "mainFetch", [], "ext:deno_fetch/26_fetch.js"),
      frame(6, "(idle)"),
    ],
    samples: [2, 4, 4, 5, 6, 3],
    timeDeltas: [1000, 2000, 2000, 4000, 8000, 16000],
  };
  const etcd = (f: { url: string }) => f.url.includes("/lib/store/etcd/");
  assert.equal(inclusive(profile, etcd), 5);
  assert.equal(inclusive(profile, (f) => f.url.includes("fraud_detection")), 20);
});
