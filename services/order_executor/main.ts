/**
 * Runs one executor replica: reads the config and serves the app.
 *
 * @module
 */
import { loadConfig } from "@bookstore/lib/config";
import { serveService } from "@bookstore/lib/service";
import { createApp } from "./app.ts";

if (import.meta.main) {
  const config = loadConfig();
  serveService(createApp({ config }), { config, port: config.executor.port });
}
