import assert from "node:assert/strict";
import { revisionOf, versionstampOf } from "./versionstamps.ts";

Deno.test("versionstamps compare as strings in revision order, and give their revision back", () => {
  const revisions = ["1", "9", "10", "255", "256", "4294967296", "9223372036854775807"];
  const stamps = revisions.map(versionstampOf);
  assert.deepEqual([...stamps].sort(), stamps);
  for (const [i, stamp] of stamps.entries()) {
    assert.match(stamp, /^[0-9a-f]{16}0000$/);
    assert.equal(revisionOf(stamp), revisions[i]);
  }
});

Deno.test("a versionstamp no revision has is undefined; what is not one is refused", () => {
  assert.equal(revisionOf("00000000000000010001"), undefined);
  assert.throws(() => revisionOf("zz"), TypeError);
  assert.throws(() => revisionOf("0000000000000001000"), TypeError);
  assert.throws(() => revisionOf(1 as unknown as string), TypeError);
});
