/**
 * An order's route: which instance of each validator holds it
 * (`BOOKSTORE_REPLICAS`). The orchestrator chooses it, InitOrder carries it,
 * and every message of the order goes to these instances. A route names
 * instances by number, and each process maps the numbers to its own
 * configured list of URLs: a validator never fetches a URL it was sent.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkRoute, routedInstance } from "./order_route.ts";
 *
 * const route = { transactionVerification: 2, fraudDetection: 0, suggestions: 1 };
 * assert.equal(routedInstance(route, "transaction_verification"), 2);
 * assert.equal(routedInstance(route, "fraud_detection"), 1, "0, unset, is instance 1");
 * assert.throws(
 *   () => checkRoute(route, { transaction_verification: 1, fraud_detection: 1, suggestions: 1 }),
 *   /route.transactionVerification: instance 2/,
 * );
 * ```
 *
 * @module
 */
import type { Config } from "./config.ts";
import type { OrderRoute } from "./contracts/common.ts";
import { type ValidatorName, VALIDATORS } from "./contracts/validators.ts";
import { RpcError } from "./rpc/errors.ts";

export type { OrderRoute } from "./contracts/common.ts";

/** Each validator's field in an {@linkcode OrderRoute} (and in `Config.urls`). */
export const ROUTE_FIELDS = {
  transaction_verification: "transactionVerification",
  fraud_detection: "fraudDetection",
  suggestions: "suggestions",
} as const satisfies Record<ValidatorName, keyof OrderRoute & keyof Config["urls"]>;

/** How many instances of each validator there are. */
export type InstanceCounts = Readonly<Record<ValidatorName, number>>;

/** The route of a process that was told none: instance 1 of each validator. */
export const UNROUTED: OrderRoute = { transactionVerification: 0, fraudDetection: 0, suggestions: 0 };

/** The instance of `validator` that holds an order routed by `route`, 1-based (0, unset, is 1). */
export function routedInstance(route: OrderRoute, validator: ValidatorName): number {
  return route[ROUTE_FIELDS[validator]] || 1;
}

/** Each validator's configured instances' URLs, instance k at index k − 1. */
export function validatorUrls(config: Config): Readonly<Record<ValidatorName, readonly string[]>> {
  return {
    transaction_verification: config.urls.transactionVerification,
    fraud_detection: config.urls.fraudDetection,
    suggestions: config.urls.suggestions,
  };
}

/** How many instances of each validator `config` lists. */
export function instanceCounts(config: Config): InstanceCounts {
  const urls = validatorUrls(config);
  return {
    transaction_verification: urls.transaction_verification.length,
    fraud_detection: urls.fraud_detection.length,
    suggestions: urls.suggestions.length,
  };
}

/**
 * Refuses a route that names an instance this process does not know, with
 * `invalid_argument` naming the field: the sender's list of instances and
 * this process's disagree.
 */
export function checkRoute(route: OrderRoute, counts: InstanceCounts): void {
  for (const name of VALIDATORS) {
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
