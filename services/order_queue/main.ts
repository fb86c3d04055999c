/**
 * Runs the order queue: reads the config, opens its store and serves the app.
 *
 * @module
 */
import { loadConfig } from "@bookstore/lib/config";
import { serveService } from "@bookstore/lib/service";
import { openStore } from "@bookstore/lib/store";
import { createApp } from "./app.ts";

if (import.meta.main) {
  const config = loadConfig();
  const kv = await openStore(config, "order_queue");
  serveService(await createApp({ config, kv }), { config, port: config.ports.orderQueue, kv });
}
