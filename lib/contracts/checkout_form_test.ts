/**
 * The checkout form's schema refuses what the server refuses, on the field
 * the server's reason is about: the same table of rejections the end-to-end
 * checkout test sends to the orchestrator (`tests/support/orders.ts`).
 */
import assert from "node:assert/strict";
import { REJECTIONS, validOrder } from "../../tests/support/orders.ts";
import { checkoutFormSchema } from "./checkout_form.ts";

/**
 * The form field a rejection's field is shown on, or `undefined` for what
 * the form does not judge. The form's fields are named by their paths in the
 * order, as the wire order's; the items are the cart's, not typed into the
 * form, and only the server can judge them (event a needs the catalog).
 */
function formFieldOf(field: string): string | undefined {
  return field === "items" || field.startsWith("items.") ? undefined : field;
}

const issuesOf = (order: unknown) => {
  const parsed = checkoutFormSchema.safeParse(order);
  return parsed.success ? [] : parsed.error.issues.map((issue) => ({
    field: issue.path.join("."),
    reasonCode: issue.code === "custom" ? issue.params?.reasonCode : undefined,
    ...issue,
  }));
};

Deno.test("the form accepts a valid order", () => {
  assert.deepEqual(issuesOf(validOrder()), []);
});

for (const { what, overrides, reason, field, code } of REJECTIONS) {
  const formField = formFieldOf(field);
  if (formField === undefined) continue;
  Deno.test(`the form refuses ${what} on ${formField}, with the server's reason and code`, () => {
    const issues = issuesOf(validOrder(overrides));
    assert.ok(
      issues.some((issue) => issue.field === formField && reason.test(issue.message) && issue.reasonCode === code),
      `no issue on ${formField} matching ${reason} coded ${code}: ${
        JSON.stringify(issues.map((i) => [i.field, i.message, i.reasonCode]))
      }`,
    );
  });
}

Deno.test("a value of the wrong type is refused on its field, as the server's schema refuses it", () => {
  const issues = issuesOf(validOrder({ creditCard: { number: 4111, expirationDate: "12/39", cvv: "123" } }));
  assert.deepEqual(issues.map((issue) => issue.field), ["creditCard.number"]);
});
