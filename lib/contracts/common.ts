/**
 * Schemas of `proto/bookstore/v1/common.proto`.
 *
 * @module
 */
import { z } from "zod";
import type { Bool, Clock, Empty, List, Msg, Nested, Num, Str } from "./wire.ts";
import { bool, clock, empty, int32, list, message, nested, str } from "./wire.ts";

/** The `User` message. */
export const userSchema: Msg<{ name: Str; contact: Str }> = message(
  "User",
  z.object({ name: str(200), contact: str(200) }),
);

/** The `CreditCard` message. */
export const creditCardSchema: Msg<{ number: Str; expirationDate: Str; cvv: Str }> = message(
  "CreditCard",
  z.object({
    number: str(64),
    expirationDate: str(16),
    cvv: str(16),
  }),
);

/** The `BillingAddress` message. */
export const billingAddressSchema: Msg<{ street: Str; city: Str; state: Str; zip: Str; country: Str }> = message(
  "BillingAddress",
  z.object({
    street: str(200),
    city: str(100),
    state: str(100),
    zip: str(32),
    country: str(100),
  }),
);

/** The `OrderItem` message. */
export const orderItemSchema: Msg<{ name: Str; bookId: Str; quantity: Num }> = message(
  "OrderItem",
  z.object({ name: str(300), bookId: str(128), quantity: int32() }),
);

/** An order line as sent by a client. */
export type OrderItem = z.infer<typeof orderItemSchema>;

/** The `Order` message: the checkout request, field for field the seeds' JSON. */
export const orderSchema: Msg<
  {
    user: Nested<typeof userSchema>;
    creditCard: Nested<typeof creditCardSchema>;
    userComment: Str;
    items: List<typeof orderItemSchema>;
    billingAddress: Nested<typeof billingAddressSchema>;
    shippingMethod: Str;
    giftWrapping: Bool;
    termsAccepted: Bool;
  }
> = message(
  "Order",
  z.object({
    user: nested(userSchema),
    creditCard: nested(creditCardSchema),
    userComment: str(2000),
    items: list(orderItemSchema, 100),
    billingAddress: nested(billingAddressSchema),
    shippingMethod: str(32),
    giftWrapping: bool(),
    termsAccepted: bool(),
  }),
);

/** A checkout request. */
export type Order = z.infer<typeof orderSchema>;

/** The `CardSummary` message: all that travels after card validation. */
export const cardSummarySchema: Msg<{ brand: Str; last4: Str; fingerprint: Str }> = message(
  "CardSummary",
  z.object({ brand: str(32), last4: str(4), fingerprint: str(128) }),
);

/** The card's brand, last four digits and keyed fingerprint. */
export type CardSummary = z.infer<typeof cardSummarySchema>;

/** The `BookRef` message. */
export const bookRefSchema: Msg<{ bookId: Str; title: Str; author: Str }> = message(
  "BookRef",
  z.object({ bookId: str(128), title: str(300), author: str(200) }),
);

/** A reference to a catalog book. */
export type BookRef = z.infer<typeof bookRefSchema>;

/** The `ValidationEvent` message. */
export const validationEventSchema: Msg<{ name: Str; service: Str; clock: Clock; time: Str; ok: Bool; detail: Str }> =
  message(
    "ValidationEvent",
    z.object({
      name: str(8),
      service: str(64),
      clock: clock(),
      time: str(64),
      ok: bool(),
      detail: str(500),
    }),
  );

/** One recorded validation event. */
export type ValidationEvent = z.infer<typeof validationEventSchema>;

const orderId = () => str(64);

/** The `AdvanceRequest` message. */
export const advanceRequestSchema: Msg<
  { orderId: Str; clock: Clock; event: Str; card: z.ZodOptional<typeof cardSummarySchema> }
> = message(
  "AdvanceRequest",
  z.object({
    orderId: orderId(),
    clock: clock(),
    event: str(16),
    card: cardSummarySchema.optional(),
  }),
);

/** A request that moves an order's validation forward. */
export type AdvanceRequest = z.infer<typeof advanceRequestSchema>;

/** The `AdvanceResponse` message. */
export const advanceResponseSchema: Empty = message("AdvanceResponse", empty());

/** The `CancelOrderRequest` message. */
export const cancelOrderRequestSchema: Msg<{ orderId: Str }> = message(
  "CancelOrderRequest",
  z.object({ orderId: orderId() }),
);

/** The `ClearOrderRequest` message. */
export const clearOrderRequestSchema: Msg<{ orderId: Str; finalClock: Clock; approved: Bool }> = message(
  "ClearOrderRequest",
  z.object({ orderId: orderId(), finalClock: clock(), approved: bool() }),
);

/** The `OrderClockResponse` message. */
export const orderClockResponseSchema: Msg<
  { clock: Clock; events: List<typeof validationEventSchema>; consistent: Bool }
> = message(
  "OrderClockResponse",
  z.object({
    clock: clock(),
    events: list(validationEventSchema, 32),
    consistent: bool(),
  }),
);

/** A validator's clock and events for an order. */
export type OrderClockResponse = z.infer<typeof orderClockResponseSchema>;

/** The `InitOrderResponse` message. */
export const initOrderResponseSchema: Empty = message("InitOrderResponse", empty());
