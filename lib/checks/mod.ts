/**
 * Checks of an order that need nothing but the order: the card (Luhn, brand,
 * length, expiry, CVV) and the customer's data and billing address. Shared by
 * transaction verification (events b and c) and the browser's checkout form.
 *
 * @module
 */
export * from "./card.ts";
export * from "./order.ts";
