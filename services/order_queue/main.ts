/**
 * Runs the order queue: reads the config, opens its KV and serves the app.
 *
 * @module
 */
import { loadConfig } from "@bookstore/lib/config";
import { openServiceKv, serveService } from "@bookstore/lib/service";
import { createApp } from "./app.ts";

if (import.meta.main) {
  const config = loadConfig();
  const kv = await openServiceKv(config, "order_queue");
  serveService(await createApp({ config, kv }), { config, port: config.ports.orderQueue, kv });
}
