/**
 * Which instance of each validator an order goes to (`BOOKSTORE_REPLICAS`):
 * rendezvous hashing of the order id over the instances believed healthy,
 * so that every message of one order reaches the same instance of each
 * validator, a retry of the order goes where its first attempt went while
 * that instance is up, and only the orders of an instance that went down move.
 *
 * An instance that failed is marked down and left out of new routes; it is
 * probed on `/healthz` (at most once per `probeAfterMs`, when a route is
 * chosen and its time has come, never on a timer) and taken back once the
 * probe answers. With every instance of a validator down, routes use them
 * all: a refusal from the routed instance is then the truth.
 *
 * @module
 */
import { type ValidatorName, VALIDATORS } from "@bookstore/lib/contracts";
import type { Logger } from "@bookstore/lib/log";
import type { Config } from "@bookstore/lib/config";
import { type OrderRoute, ROUTE_FIELDS, routedUrls } from "@bookstore/lib/order_route";
import type { Fetch } from "@bookstore/lib/rpc";
import { rendezvous } from "@bookstore/lib/rendezvous";

/** Asks instance `instance` of `validator` whether it serves (its `/healthz`). */
export type HealthProbe = (target: { validator: ValidatorName; instance: number }) => Promise<boolean>;

/** Options for {@linkcode ValidatorRouter}. */
export interface ValidatorRouterOptions {
  /** How many instances of each validator are configured. */
  counts: Readonly<Record<ValidatorName, number>>;
  /** This orchestrator's instance number: the outcomes of the orders it routes come back to it. @default 1 */
  self?: number;
  /** Asks an instance that is down whether it serves again. */
  probe: HealthProbe;
  /** How long a down instance is left alone before the next probe. @default 1000 */
  probeAfterMs?: number;
  /** The logger. */
  log: Logger;
  /** The clock (tests). @default Date.now */
  now?: () => number;
}

/** Chooses each order's validator instances, over the healthy ones. */
export class ValidatorRouter {
  readonly #options: ValidatorRouterOptions;
  // Down instances by "validator/instance": when each may be probed next.
  readonly #down = new Map<string, { validator: ValidatorName; instance: number; probeAt: number }>();
  readonly #probing = new Set<string>();

  /** Routes over `options.counts` instances of each validator. */
  constructor(options: ValidatorRouterOptions) {
    this.#options = options;
  }

  /** The instances of `validator` believed healthy (every instance when none is). */
  healthy(validator: ValidatorName): number[] {
    const all = Array.from({ length: this.#options.counts[validator] }, (_, i) => i + 1);
    const up = all.filter((instance) => !this.#down.has(key(validator, instance)));
    return up.length > 0 ? up : all;
  }

  /** The route of `orderId`: the rendezvous choice of each validator's healthy instances, and this orchestrator. */
  route(orderId: string): OrderRoute {
    this.#probeDue();
    const route = { orchestrator: this.#options.self ?? 1 } as OrderRoute;
    for (const validator of VALIDATORS) route[ROUTE_FIELDS[validator]] = rendezvous(orderId, this.healthy(validator));
    return route;
  }

  /** Instance `instance` of `validator` failed: no new route goes there until a probe finds it serving. */
  markDown(target: { validator: ValidatorName; instance: number }): void {
    const id = key(target.validator, target.instance);
    if (this.#down.has(id) || this.#options.counts[target.validator] < 2) return;
    this.#options.log.warn("validator instance marked down", target);
    this.#down.set(id, { ...target, probeAt: this.#now() + this.#probeAfterMs() });
  }

  /** Whether instance `instance` of `validator` is marked down. */
  isDown(target: { validator: ValidatorName; instance: number }): boolean {
    return this.#down.has(key(target.validator, target.instance));
  }

  // Probes, in the background, each down instance whose time has come; one that answers is taken back.
  #probeDue(): void {
    const now = this.#now();
    for (const [id, entry] of this.#down) {
      if (entry.probeAt > now || this.#probing.has(id)) continue;
      entry.probeAt = now + this.#probeAfterMs();
      this.#probing.add(id);
      const { validator, instance } = entry;
      this.#options.probe({ validator, instance }).catch(() => false).then((up) => {
        this.#probing.delete(id);
        if (!up) return;
        this.#down.delete(id);
        this.#options.log.info("validator instance serves again", { validator, instance });
      });
    }
  }

  #now(): number {
    return (this.#options.now ?? Date.now)();
  }

  #probeAfterMs(): number {
    return this.#options.probeAfterMs ?? 1000;
  }
}

/** A {@linkcode HealthProbe} that asks the instance's `/healthz` (at its configured URL) within the RPC deadline. */
export function probeHealth(config: Config, deps: { fetch?: Fetch } = {}): HealthProbe {
  const urls = routedUrls(config);
  return async ({ validator, instance }) => {
    const url = urls[validator][instance - 1];
    if (url === undefined) return false;
    const response = await (deps.fetch ?? fetch)(`${url}/healthz`, {
      signal: AbortSignal.timeout(config.rpcTimeoutMs),
    });
    await response.body?.cancel();
    return response.ok;
  };
}

function key(validator: ValidatorName, instance: number): string {
  return `${validator}/${instance}`;
}
