/**
 * An order's route: which instance of each validator holds it, and which
 * orchestrator instance placed it (`BOOKSTORE_REPLICAS`). The orchestrator
 * chooses it, InitOrder carries it, every message of the order goes to these
 * instances and its outcome to that orchestrator. A route names instances by
 * number, and each process maps the numbers to its own configured list of
 * URLs: a validator never fetches a URL it was sent.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkRoute, routedInstance } from "./order_route.ts";
 *
 * const route = { transactionVerification: 2, fraudDetection: 0, suggestions: 1, orchestrator: 1 };
 * assert.equal(routedInstance(route, "transaction_verification"), 2);
 * assert.equal(routedInstance(route, "fraud_detection"), 1, "0, unset, is instance 1");
 * assert.throws(
 *   () => checkRoute(route, { transaction_verification: 1, fraud_detection: 1, suggestions: 1, orchestrator: 1 }),
 *   /route.transactionVerification: instance 2/,
 * );
 * ```
 *
 * @module
 */
import type { Config } from "./config.ts";
import type { OrderRoute } from "./contracts/common.ts";
import { VALIDATORS } from "./contracts/validators.ts";
import { RpcError } from "./rpc/errors.ts";

export type { OrderRoute } from "./contracts/common.ts";

/** The services a route names an instance of: the validators, and the orchestrator that placed the order. */
export const ROUTED_SERVICES = [...VALIDATORS, "orchestrator"] as const;

/** A service a route names an instance of. */
export type RoutedService = typeof ROUTED_SERVICES[number];

/** Each routed service's field in an {@linkcode OrderRoute} (and in `Config.urls`). */
export const ROUTE_FIELDS = {
  transaction_verification: "transactionVerification",
  fraud_detection: "fraudDetection",
  suggestions: "suggestions",
  orchestrator: "orchestrator",
} as const satisfies Record<RoutedService, keyof OrderRoute & keyof Config["urls"]>;

/** How many instances of each routed service there are. */
export type InstanceCounts = Readonly<Record<RoutedService, number>>;

/** The route of a process that was told none: instance 1 of each. */
export const UNROUTED: OrderRoute = { transactionVerification: 0, fraudDetection: 0, suggestions: 0, orchestrator: 0 };

/** The instance of `service` that holds an order routed by `route`, 1-based (0, unset, is 1). */
export function routedInstance(route: OrderRoute, service: RoutedService): number {
  return route[ROUTE_FIELDS[service]] || 1;
}

/** Each routed service's configured instances' URLs, instance k at index k − 1. */
export function routedUrls(config: Config): Readonly<Record<RoutedService, readonly string[]>> {
  return {
    transaction_verification: config.urls.transactionVerification,
    fraud_detection: config.urls.fraudDetection,
    suggestions: config.urls.suggestions,
    orchestrator: config.urls.orchestrator,
  };
}

/** How many instances of each routed service `config` lists. */
export function instanceCounts(config: Config): InstanceCounts {
  const urls = routedUrls(config);
  return {
    transaction_verification: urls.transaction_verification.length,
    fraud_detection: urls.fraud_detection.length,
    suggestions: urls.suggestions.length,
    orchestrator: urls.orchestrator.length,
  };
}

/**
 * Refuses a route that names an instance this process does not know, with
 * `invalid_argument` naming the field: the sender's list of instances and
 * this process's disagree.
 */
export function checkRoute(route: OrderRoute, counts: InstanceCounts): void {
  for (const name of ROUTED_SERVICES) {
    const instance = routedInstance(route, name);
    if (instance > counts[name]) {
      throw new RpcError(
        "invalid_argument",
        `route.${ROUTE_FIELDS[name]}: instance ${instance} is not one of the ${
          counts[name]
        } ${name} instance(s) configured here`,
      );
    }
  }
}
