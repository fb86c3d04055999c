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
