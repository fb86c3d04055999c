/**
 * The web app: Fresh's layout (`routes/`, `islands/`, `components/`,
 * `utils/`, `static/`, the generated `fresh.gen.ts`) served by Hono, since
 * Fresh itself cannot be installed here (no JSR). This file only wires the
 * app to the system and serves it.
 *
 * @module
 */
import { loadCatalog } from "@bookstore/lib/catalog";
import { loadConfig } from "@bookstore/lib/config";
import { createLogger } from "@bookstore/lib/log";
import { serve } from "@bookstore/lib/service";
import manifest from "./fresh.gen.ts";
import { ClusterWatcher } from "./utils/cluster_watcher.ts";
import { createShopApi } from "./utils/shop_api.ts";
import type { State } from "./utils/state.ts";
import { bundleClient } from "./web/bundle.ts";
import { createWebApp } from "./web/server.ts";
import { EventStreams } from "./web/sse.ts";

if (import.meta.main) {
  const config = loadConfig();
  const log = createLogger("web", { level: config.logLevel });
  const catalog = loadCatalog();
  const shop = createShopApi({ config, catalog });
  const state: State = {
    shop,
    catalog,
    cluster: new ClusterWatcher(() => shop.cluster()),
    faults: config.faults,
    crashesEtcd: config.faults && config.supervisorUrl !== undefined,
    orchestratorPublicUrl: config.web.orchestratorPublicUrl,
    origin: config.web.origin,
    streams: new EventStreams(),
  };
  // Said at info: the first bundle on a machine fetches Deno's bundler, and start-up waits for it.
  const bundling = performance.now();
  const bundle = await bundleClient();
  log.info("islands bundled", {
    kib: Math.round(bundle.code.length / 1024),
    ms: Math.round(performance.now() - bundling),
  });
  const app = createWebApp(manifest, {
    state,
    bundle,
    log,
    connectOrigins: [new URL(config.web.orchestratorPublicUrl).origin],
    trustedProxies: config.trustedProxies,
  });
  serve(app, { port: config.web.port, hostname: config.host, log });
}
