/**
 * The building blocks of the proto3 JSON mapping: scalars default to their
 * zero values and keep to their protobuf ranges, lists to their bounds, and
 * each message name is given to one schema only.
 */
import assert from "node:assert/strict";
import { z } from "zod";
import { int32, list, message, nested, registeredMessages, str, uint32 } from "./wire.ts";

Deno.test("an omitted scalar, list or nested message reads as its zero value", () => {
  const schema = z.object({
    name: str(),
    count: int32(),
    tags: list(str()),
    inner: nested(z.object({ id: uint32() })),
  });
  assert.deepEqual(schema.parse({}), { name: "", count: 0, tags: [], inner: { id: 0 } });
});

Deno.test("numbers keep to their protobuf ranges", () => {
  for (const value of [-(2 ** 31), 0, 2 ** 31 - 1]) assert.ok(int32().safeParse(value).success, `int32 ${value}`);
  for (const value of [-(2 ** 31) - 1, 2 ** 31, 1.5]) assert.ok(!int32().safeParse(value).success, `int32 ${value}`);
  for (const value of [0, 2 ** 32 - 1]) assert.ok(uint32().safeParse(value).success, `uint32 ${value}`);
  for (const value of [-1, 2 ** 32, 0.5]) assert.ok(!uint32().safeParse(value).success, `uint32 ${value}`);
});

Deno.test("texts and lists keep to the bound they are given", () => {
  assert.ok(str(3).safeParse("abc").success);
  assert.ok(!str(3).safeParse("abcd").success);
  assert.ok(list(int32(), 2).safeParse([1, 2]).success);
  assert.ok(!list(int32(), 2).safeParse([1, 2, 3]).success);
});

Deno.test("a message name is given to one schema only, and is registered under the package", () => {
  const probe = message("WireTestProbe", z.object({ id: str() }));
  assert.equal(registeredMessages()["bookstore.v1.WireTestProbe"], probe);
  assert.throws(() => message("WireTestProbe", z.object({})), /bookstore\.v1\.WireTestProbe is defined twice/);
});
