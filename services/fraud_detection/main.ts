/**
 * Runs fraud detection: reads the config, opens its KV and serves the app.
 *
 * @module
 */
import { loadConfig } from "@bookstore/lib/config";
import { openServiceKv, serveService } from "@bookstore/lib/service";
import { createApp } from "./app.ts";

if (import.meta.main) {
  const config = loadConfig();
  const kv = await openServiceKv(config, "fraud_detection");
  serveService(createApp({ config, kv }), { config, port: config.ports.fraudDetection, kv });
}
