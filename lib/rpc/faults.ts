/**
 * Fault injection for tests and demos: delay or fail chosen RPC methods of a
 * running service. Mounted only when `BOOKSTORE_FAULTS` is enabled outside
 * production, and guarded by the service credential like any internal call.
 *
 * @module
 */
import { z } from "zod";
import { delay } from "../async.ts";
import { CONNECT_CODES, type ConnectCode, RpcError } from "./errors.ts";

/** One fault rule: which methods it hits and what it does to them. */
export const faultRuleSchema: z.ZodObject<{
  method: z.ZodDefault<z.ZodString>;
  delayMs: z.ZodDefault<z.ZodNumber>;
  failWith: z.ZodOptional<z.ZodEnum<{ [K in ConnectCode]: K }>>;
  times: z.ZodOptional<z.ZodNumber>;
}> = z.object({
  /** `Method`, `package.Service/Method` or `*` for every method. */
  method: z.string().min(1).default("*"),
  /** Delay before the handler runs. */
  delayMs: z.number().int().min(0).max(60_000).default(0),
  /** Fail with this Connect code instead of running the handler. */
  failWith: z.enum(CONNECT_CODES).optional(),
  /** How many calls the rule applies to; unlimited when absent. */
  times: z.number().int().min(1).optional(),
});

/** A fault rule as stored. */
export type FaultRule = z.infer<typeof faultRuleSchema>;

/** The body of `POST /admin/faults`: the rules that replace the current ones. */
export const faultRulesSchema: z.ZodObject<{ rules: z.ZodArray<typeof faultRuleSchema> }> = z.object({
  rules: z.array(faultRuleSchema).max(50),
});

/** Holds the active fault rules of one process. */
export class FaultInjector {
  #rules: FaultRule[] = [];

  /** Replaces every rule. */
  set(rules: FaultRule[]): void {
    this.#rules = rules.map((rule) => ({ ...rule }));
  }

  /** The active rules. */
  list(): FaultRule[] {
    return this.#rules.map((rule) => ({ ...rule }));
  }

  /** Applies the first matching rule to a call: waits, then maybe throws. */
  async apply(fullMethod: string, signal: AbortSignal): Promise<void> {
    const name = fullMethod.slice(fullMethod.lastIndexOf("/") + 1);
    const rule = this.#rules.find((r) => r.method === "*" || r.method === fullMethod || r.method === name);
    if (!rule) return;
    if (rule.times !== undefined) {
      rule.times -= 1;
      if (rule.times <= 0) this.#rules = this.#rules.filter((r) => r !== rule);
    }
    // A call abandoned during the delay ends there; the caller sees its deadline, not the fault.
    if (rule.delayMs > 0) await delay(rule.delayMs, { signal }).catch(() => {});
    if (rule.failWith) {
      throw new RpcError(rule.failWith, `injected fault on ${fullMethod}`);
    }
  }
}
