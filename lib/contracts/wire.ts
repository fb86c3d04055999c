/**
 * zod building blocks for protobuf's JSON mapping. proto3 omits fields that
 * hold their default value, so every scalar defaults to its zero value and
 * every nested message to an empty one: a message from any Connect client
 * parses the same whether or not its encoder wrote the defaults.
 *
 * @module
 */
import { z } from "zod";
import { vectorClockSchema } from "../vector_clock.ts";

/** `string`, at most `max` characters. */
export const str = (max = 256) => z.string().max(max).default("");
/** `int32`. */
export const int32 = () => z.number().int().min(-2_147_483_648).max(2_147_483_647).default(0);
/** `uint32`. */
export const uint32 = () => z.number().int().min(0).max(4_294_967_295).default(0);
/** `double`. */
export const double = () => z.number().default(0);
/** `bool`. */
export const bool = () => z.boolean().default(false);
/** `repeated T`, at most `max` entries. */
export const list = <T extends z.ZodType>(item: T, max = 1000) => z.array(item).max(max).default([]);
/** A nested message that reads as empty when absent. */
export const nested = <T extends z.ZodObject>(schema: T) => schema.prefault({} as z.input<T>);
/** `map<string, uint32>` holding a vector clock. */
export const clock = () => vectorClockSchema.default({});
/** A message with no fields. */
export const empty = () => z.object({});

/** The protobuf package every bookstore message and service belongs to. */
export const PROTO_PACKAGE = "bookstore.v1";

const registry = new Map<string, z.ZodType>();

/**
 * Names `schema` as the proto message `name` (in {@linkcode PROTO_PACKAGE})
 * and returns it: each message's name is written once, where its schema is
 * defined, and the registry of every message is built from these calls.
 */
export function message<T extends z.ZodType>(name: string, schema: T): T {
  const fullName = `${PROTO_PACKAGE}.${name}`;
  if (registry.has(fullName)) throw new Error(`proto message ${fullName} is defined twice`);
  registry.set(fullName, schema);
  return schema;
}

/** Every message named with {@linkcode message} so far, by its fully qualified name. */
export function registeredMessages(): Readonly<Record<string, z.ZodType>> {
  return Object.fromEntries(registry);
}
