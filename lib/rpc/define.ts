/**
 * Declarative service contracts: a service is its protobuf type name plus a
 * zod schema for the input and output of every method. Servers and clients
 * are both derived from the same definition, so they cannot disagree.
 *
 * @module
 */
import type { z } from "zod";

/** One unary method: what it accepts, what it answers, whether it may be retried. */
export interface MethodSpec<
  I extends z.ZodType = z.ZodType,
  O extends z.ZodType = z.ZodType,
> {
  /** Schema of the request message. */
  readonly input: I;
  /** Schema of the response message. */
  readonly output: O;
  /** Whether a client may safely repeat the call after an ambiguous failure. */
  readonly idempotent: boolean;
}

/** A service: the fully qualified protobuf name and its methods. */
export interface ServiceSpec<
  M extends Record<string, MethodSpec> = Record<string, MethodSpec>,
> {
  /** Fully qualified name, e.g. `bookstore.v1.OrderQueueService`. */
  readonly typeName: string;
  /** Whether callers need no service credential (only the public checkout API). */
  readonly public: boolean;
  /** The methods, keyed by their protobuf names. */
  readonly methods: M;
}

/** Declares a unary method. */
export function method<I extends z.ZodType, O extends z.ZodType>(
  input: I,
  options: { output: O; idempotent: boolean },
): MethodSpec<I, O> {
  return { input, output: options.output, idempotent: options.idempotent };
}

/**
 * Declares a service from its protobuf name and methods: servers
 * ({@linkcode createRpcRoutes}) and clients ({@linkcode createClient}) are
 * both built from it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { z } from "zod";
 * import { defineService, method, methodPath } from "./define.ts";
 *
 * const greeter = defineService("bookstore.v1.GreeterService", {
 *   methods: {
 *     Greet: method(z.object({ name: z.string().default("") }), {
 *       output: z.object({ greeting: z.string() }),
 *       idempotent: true,
 *     }),
 *   },
 * });
 * assert.equal(greeter.public, false, "internal unless said otherwise: callers need the service credential");
 * assert.equal(methodPath(greeter, "Greet"), "/bookstore.v1.GreeterService/Greet");
 * ```
 */
export function defineService<M extends Record<string, MethodSpec>>(
  typeName: string,
  options: { methods: M; public?: boolean },
): ServiceSpec<M> {
  return { typeName, methods: options.methods, public: options.public ?? false };
}

/** The Connect URL path of a method: `/package.Service/Method`. */
export function methodPath(service: ServiceSpec, methodName: string): string {
  return `/${service.typeName}/${methodName}`;
}
