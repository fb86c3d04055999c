/**
 * Schemas of `proto/bookstore/v1/common.proto`.
 *
 * @module
 */
import { z } from "zod";
import { bool, clock, empty, int32, list, nested, str } from "./wire.ts";

/** `bookstore.v1.User`. */
export const userSchema = z.object({ name: str(200), contact: str(200) });

/** `bookstore.v1.CreditCard`. */
export const creditCardSchema = z.object({
  number: str(64),
  expirationDate: str(16),
  cvv: str(16),
});

/** `bookstore.v1.BillingAddress`. */
export const billingAddressSchema = z.object({
  street: str(200),
  city: str(100),
  state: str(100),
  zip: str(32),
  country: str(100),
});

/** `bookstore.v1.OrderItem`. */
export const orderItemSchema = z.object({ name: str(300), bookId: str(128), quantity: int32() });

/** An order line as sent by a client. */
export type OrderItem = z.infer<typeof orderItemSchema>;

/** `bookstore.v1.Order`: the checkout request, field for field the seeds' JSON. */
export const orderSchema = z.object({
  user: nested(userSchema),
  creditCard: nested(creditCardSchema),
  userComment: str(2000),
  items: list(orderItemSchema, 100),
  billingAddress: nested(billingAddressSchema),
  shippingMethod: str(32),
  giftWrapping: bool(),
  termsAccepted: bool(),
});

/** A checkout request. */
export type Order = z.infer<typeof orderSchema>;

/** `bookstore.v1.CardSummary`: all that travels after card validation. */
export const cardSummarySchema = z.object({ brand: str(32), last4: str(4), fingerprint: str(128) });

/** The card's brand, last four digits and keyed fingerprint. */
export type CardSummary = z.infer<typeof cardSummarySchema>;

/** `bookstore.v1.BookRef`. */
export const bookRefSchema = z.object({ bookId: str(128), title: str(300), author: str(200) });

/** A reference to a catalog book. */
export type BookRef = z.infer<typeof bookRefSchema>;

/** `bookstore.v1.ValidationEvent`. */
export const validationEventSchema = z.object({
  name: str(8),
  service: str(64),
  clock: clock(),
  time: str(64),
  ok: bool(),
  detail: str(500),
});

/** One recorded validation event. */
export type ValidationEvent = z.infer<typeof validationEventSchema>;

const orderId = () => str(64);

/** `bookstore.v1.AdvanceRequest`. */
export const advanceRequestSchema = z.object({
  orderId: orderId(),
  clock: clock(),
  event: str(16),
  card: cardSummarySchema.optional(),
});

/** A request that moves an order's validation forward. */
export type AdvanceRequest = z.infer<typeof advanceRequestSchema>;

/** `bookstore.v1.AdvanceResponse`. */
export const advanceResponseSchema = empty();

/** `bookstore.v1.CancelOrderRequest`. */
export const cancelOrderRequestSchema = z.object({ orderId: orderId() });

/** `bookstore.v1.ClearOrderRequest`. */
export const clearOrderRequestSchema = z.object({ orderId: orderId(), finalClock: clock() });

/** `bookstore.v1.OrderClockResponse`. */
export const orderClockResponseSchema = z.object({
  clock: clock(),
  events: list(validationEventSchema, 32),
  consistent: bool(),
});

/** A validator's clock and events for an order. */
export type OrderClockResponse = z.infer<typeof orderClockResponseSchema>;

/** `bookstore.v1.InitOrderResponse`. */
export const initOrderResponseSchema = empty();
