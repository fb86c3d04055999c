/**
 * Unknown fields, refused by name: zod's objects strip keys they do not know
 * silently, and Connect's own JSON codec refuses them, so the servers look
 * for them before a message is parsed.
 *
 * @module
 */
import type { z } from "zod";

interface SchemaDef {
  type: string;
  innerType?: z.ZodType;
  in?: z.ZodType;
  element?: z.ZodType;
  valueType?: z.ZodType;
  shape?: Record<string, z.ZodType>;
}

/**
 * The paths of every key in `value` that `schema` has no field for (zod's
 * objects would strip them silently), found by walking the schema's
 * objects, arrays, maps and wrappers alongside the value. The walk is
 * compiled once per schema, and visits only the parts of the value where
 * the schema has objects.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { z } from "zod";
 * import { findUnknownFields } from "./unknown_fields.ts";
 *
 * const schema = z.object({ items: z.array(z.object({ bookId: z.string() })).default([]) });
 * assert.deepEqual(findUnknownFields(schema, { items: [{ bookId: "dune", price: 0 }], __proto__x: 1 }), [
 *   "items.0.price",
 *   "__proto__x",
 * ]);
 * ```
 */
export function findUnknownFields(schema: z.ZodType, value: unknown): string[] {
  const found: string[] = [];
  walkerOf(schema)?.(value, "", found);
  return found;
}

// Visits a value at `path` (dotted, "" at the root), adding every unknown key's path to `found`.
type Walker = (value: unknown, path: string, found: string[]) => void;

// undefined: the schema holds no object, so nothing under it can be unknown.
const walkers = new WeakMap<z.ZodType, Walker | undefined>();

function walkerOf(schema: z.ZodType): Walker | undefined {
  if (walkers.has(schema)) return walkers.get(schema);
  // A recursive schema meets itself while it is compiled: it refers to its walker lazily.
  const self: { walker?: Walker } = {};
  walkers.set(schema, (value, path, found) => self.walker?.(value, path, found));
  self.walker = compileWalker(schema);
  walkers.set(schema, self.walker);
  return self.walker;
}

const join = (path: string, key: string) => path === "" ? key : `${path}.${key}`;
const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

function compileWalker(schema: z.ZodType): Walker | undefined {
  const def = (schema as unknown as { _zod: { def: SchemaDef } })._zod.def;
  switch (def.type) {
    case "default":
    case "prefault":
    case "optional":
    case "nullable":
    case "readonly":
    case "catch":
      return def.innerType ? walkerOf(def.innerType) : undefined;
    case "pipe":
      return def.in ? walkerOf(def.in) : undefined;
    case "array": {
      const item = def.element && walkerOf(def.element);
      if (!item) return undefined;
      return (value, path, found) => {
        if (!Array.isArray(value)) return;
        for (let i = 0; i < value.length; i++) item(value[i], join(path, String(i)), found);
      };
    }
    case "record": {
      const item = def.valueType && walkerOf(def.valueType);
      if (!item) return undefined;
      return (value, path, found) => {
        if (!isPlainObject(value)) return;
        for (const key of Object.keys(value)) item(value[key], join(path, key), found);
      };
    }
    case "object": {
      const shape = def.shape ?? {};
      const fields = new Map(Object.keys(shape).map((key) => [key, walkerOf(shape[key])]));
      return (value, path, found) => {
        if (!isPlainObject(value)) return;
        for (const key of Object.keys(value)) {
          if (!fields.has(key)) found.push(join(path, key));
          else fields.get(key)?.(value[key], join(path, key), found);
        }
      };
    }
    default:
      return undefined;
  }
}
