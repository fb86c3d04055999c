/**
 * The checkout as the browser's form validates it: the orchestrator's own
 * `orderSchema` (the wire shape), refined with the checks transaction
 * verification runs on the customer's data and card (events b and c). One
 * schema, so the form and the server cannot disagree about what is valid.
 *
 * @module
 */
import { checkCard, checkUserData } from "../checks/order.ts";
import { orderSchema } from "./common.ts";

/**
 * An order that the server's checks of user data and card would accept;
 * every issue carries the path of the field it is about and, in its
 * `params.reasonCode`, the check's reason code. The expiry is judged against
 * the current time.
 *
 * @example Validate what the customer typed
 * ```ts
 * import { checkoutFormSchema } from "@bookstore/lib/contracts";
 * const result = checkoutFormSchema.safeParse({ user: { name: "", contact: "" } });
 * if (!result.success) console.log(result.error.issues.map((i) => i.path.join(".")));
 * ```
 */
export const checkoutFormSchema = orderSchema
  .superRefine((order, ctx) => {
    const now = new Date();
    for (const issue of [...checkUserData(order).issues, ...checkCard(order.creditCard, now).issues]) {
      ctx.addIssue({ code: "custom", path: issue.path, message: issue.message, params: { reasonCode: issue.code } });
    }
  });
