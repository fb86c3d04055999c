/**
 * What every route and page of the web app receives as `ctx.state`.
 *
 * @module
 */
import type { Catalog } from "@bookstore/lib/catalog";
import type { EventStreams } from "../web/sse.ts";
import type { ClusterWatcher } from "./cluster_watcher.ts";
import type { ShopApi } from "./shop_api.ts";

/** The web app's state. */
export interface State {
  /** The system's APIs. */
  shop: ShopApi;
  /** The shipped catalog (descriptions, genres). */
  catalog: Catalog;
  /** The cluster, watched while the cluster page is open. */
  cluster: ClusterWatcher;
  /** Whether fault buttons and admin endpoints are enabled (dev and test only). */
  faults: boolean;
  /**
   * Whether the cluster page can crash etcd members: faults on, and a supervisor that runs them
   * (`BOOKSTORE_SUPERVISOR_URL`, which `deno task dev` sets when it starts the members).
   */
  crashesEtcd: boolean;
  /** Where the browser calls the orchestrator's Connect API. */
  orchestratorPublicUrl: string;
  /** The web app's own origin: its admin and API routes answer only requests to and from it (`utils/admin.ts`). */
  origin: string;
  /** The live pages' event streams, counted against their caps. */
  streams: EventStreams;
}
