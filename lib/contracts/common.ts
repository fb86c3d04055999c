/**
 * Schemas of `proto/bookstore/v1/common.proto`.
 *
 * @module
 */
import { z } from "zod";
import { bool, clock, empty, int32, list, message, nested, str, uint32 } from "./wire.ts";

/** The `User` message. */
export const userSchema = message(
  "User",
  z.object({ name: str(200), contact: str(200) }),
);

/** The `CreditCard` message. */
export const creditCardSchema = message(
  "CreditCard",
  z.object({
    number: str(64),
    expirationDate: str(16),
    cvv: str(16),
  }),
);

/** The `BillingAddress` message. */
export const billingAddressSchema = message(
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
export const orderItemSchema = message(
  "OrderItem",
  z.object({ name: str(300), bookId: str(128), quantity: int32() }),
);

/** An order line as sent by a client. */
export type OrderItem = z.infer<typeof orderItemSchema>;

/** The `Order` message: the checkout request, field for field the seeds' JSON. */
export const orderSchema = message(
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
export const cardSummarySchema = message(
  "CardSummary",
  z.object({ brand: str(32), last4: str(4), fingerprint: str(128) }),
);

/** The card's brand, last four digits and keyed fingerprint. */
export type CardSummary = z.infer<typeof cardSummarySchema>;

/** The `BookRef` message. */
export const bookRefSchema = message(
  "BookRef",
  z.object({ bookId: str(128), title: str(300), author: str(200) }),
);

/** A reference to a catalog book. */
export type BookRef = z.infer<typeof bookRefSchema>;

/** The `ValidationEvent` message. */
export const validationEventSchema = message(
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
export const advanceRequestSchema = message(
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
export const advanceResponseSchema = message("AdvanceResponse", empty());

/** The `CancelOrderRequest` message. */
export const cancelOrderRequestSchema = message(
  "CancelOrderRequest",
  z.object({ orderId: orderId() }),
);

/** The `ClearOrderRequest` message. */
export const clearOrderRequestSchema = message(
  "ClearOrderRequest",
  z.object({ orderId: orderId(), finalClock: clock(), approved: bool() }),
);

/** The `OrderClockResponse` message. */
export const orderClockResponseSchema = message(
  "OrderClockResponse",
  z.object({
    clock: clock(),
    events: list(validationEventSchema, 32),
    consistent: bool(),
  }),
);

/** A validator's clock and events for an order. */
export type OrderClockResponse = z.infer<typeof orderClockResponseSchema>;

/**
 * The `OrderRoute` message: which instance of each validator holds an order, and which orchestrator instance
 * placed it (its outcome goes there), by number (1-based; 0, unset, is instance 1). Numbers, never URLs: each
 * process maps them to its own configured lists.
 */
export const orderRouteSchema = message(
  "OrderRoute",
  z.object({
    transactionVerification: uint32(),
    fraudDetection: uint32(),
    suggestions: uint32(),
    orchestrator: uint32(),
  }),
);

/** Which instance of each validator holds an order, and which orchestrator instance placed it. */
export type OrderRoute = z.infer<typeof orderRouteSchema>;

/** The `InitOrderResponse` message. */
export const initOrderResponseSchema = message("InitOrderResponse", empty());
