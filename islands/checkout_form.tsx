/**
 * The checkout form. Every field is checked as the customer types with
 * `checkoutFormSchema` — the orchestrator's order schema refined with the
 * exact checks transaction verification runs — and the card's brand is shown
 * as soon as it is recognised. Submitting calls the orchestrator's Connect
 * method `PlaceOrder` with an `Idempotency-Key` that stays the same until an
 * answer arrives or the order changes (as the orchestrator compares orders:
 * the card by its last four digits), so a double click, or a retry after a
 * network error with the card typed again, can never place two orders. The card number and CVV are
 * cleared once submitted and never stored.
 *
 * @module
 */
import { useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import { cardDigits, detectBrand, SHIPPING_METHODS } from "@bookstore/lib/checks";
import { COUNTRIES } from "@bookstore/lib/countries";
import {
  type BookRef,
  checkoutFormSchema,
  checkoutService,
  codedReasons,
  type Order,
  type ReasonCode,
  type Rejection,
} from "@bookstore/lib/contracts";
// The client half only: the server half is not for browsers.
import { createClient } from "@bookstore/lib/rpc/client";
import { RpcError } from "@bookstore/lib/rpc/errors";
import { orderDigest } from "@bookstore/lib/digest";
import AddToCart from "./add_to_cart.tsx";
import { Field, fieldAria } from "../components/field.tsx";
import { cart, cartLoaded, cartSubtotal, clearCart, formatPrice, loadCart } from "../utils/cart.ts";
import { shopperReason, shopperSentence } from "../utils/reasons.ts";

/** Props of {@linkcode CheckoutForm}. */
export interface CheckoutFormProps {
  /** Where the browser calls the orchestrator's public API. */
  orchestratorUrl: string;
  /** Every book's price, for adding suggested books to the cart. */
  prices: Record<string, number>;
}

const FIELDS = {
  "user.name": { label: "Full name", autocomplete: "name" },
  "user.contact": { label: "E-mail or phone", autocomplete: "email" },
  "creditCard.number": { label: "Card number", autocomplete: "cc-number" },
  "creditCard.expirationDate": { label: "Expiry (MM/YY)", autocomplete: "cc-exp" },
  "creditCard.cvv": { label: "CVV", autocomplete: "cc-csc" },
  "billingAddress.street": { label: "Street", autocomplete: "address-line1" },
  "billingAddress.city": { label: "City", autocomplete: "address-level2" },
  "billingAddress.state": { label: "State or region", autocomplete: "address-level1" },
  "billingAddress.zip": { label: "Postal code", autocomplete: "postal-code" },
  "billingAddress.country": { label: "Country", autocomplete: "country" },
  "userComment": { label: "Comment (optional)", autocomplete: "off" },
  "shippingMethod": { label: "Shipping", autocomplete: "off" },
  "giftWrapping": { label: "Gift wrapping", autocomplete: "off" },
  "termsAccepted": { label: "I accept the terms and conditions", autocomplete: "off" },
} as const;

type FieldName = keyof typeof FIELDS;
type Values = Record<FieldName, string | boolean>;

const EMPTY: Values = {
  "user.name": "",
  "user.contact": "",
  "creditCard.number": "",
  "creditCard.expirationDate": "",
  "creditCard.cvv": "",
  "billingAddress.street": "",
  "billingAddress.city": "",
  "billingAddress.state": "",
  "billingAddress.zip": "",
  "billingAddress.country": "",
  "userComment": "",
  "shippingMethod": SHIPPING_METHODS[0],
  "giftWrapping": false,
  "termsAccepted": false,
};

const ORDER_OF_FIELDS = Object.keys(FIELDS) as FieldName[];
const id = (field: FieldName) => `field-${field.replace(".", "-")}`;

type Result =
  | { kind: "answer"; approved: boolean; orderId: string; rejections: Rejection[]; suggestedBooks: BookRef[] }
  | { kind: "error"; message: string; retryable: boolean };

function toOrder(values: Values): Order {
  const text = (field: FieldName) => String(values[field]);
  return {
    user: { name: text("user.name"), contact: text("user.contact") },
    creditCard: {
      number: text("creditCard.number"),
      expirationDate: text("creditCard.expirationDate"),
      cvv: text("creditCard.cvv"),
    },
    userComment: text("userComment"),
    items: cart.value.map((line) => ({ bookId: line.bookId, name: "", quantity: line.quantity })),
    billingAddress: {
      street: text("billingAddress.street"),
      city: text("billingAddress.city"),
      state: text("billingAddress.state"),
      zip: text("billingAddress.zip"),
      country: text("billingAddress.country"),
    },
    shippingMethod: text("shippingMethod"),
    giftWrapping: values.giftWrapping === true,
    termsAccepted: values.termsAccepted === true,
  };
}

function errorsOf(values: Values): Partial<Record<FieldName, string>> {
  const parsed = checkoutFormSchema.safeParse(toOrder(values));
  const errors: Partial<Record<FieldName, string>> = {};
  if (parsed.success) return errors;
  for (const issue of parsed.error.issues) {
    const field = issue.path.join(".") as FieldName;
    // The checks' issues carry their reason code; zod's own (a wrong type) have none.
    const code: ReasonCode = issue.code === "custom" ? issue.params?.reasonCode ?? "other" : "other";
    if (field in FIELDS && !errors[field]) errors[field] = shopperReason({ code, message: issue.message });
  }
  return errors;
}

/** The checkout form and its result. */
export default function CheckoutForm({ orchestratorUrl, prices }: CheckoutFormProps) {
  const values = useSignal<Values>(EMPTY);
  const touched = useSignal<Set<FieldName>>(new Set());
  const submitting = useSignal(false);
  const result = useSignal<Result | undefined>(undefined);
  const summary = useSignal("");
  const attempt = useRef<{ key: string; digest: string } | undefined>(undefined);
  const resultHeading = useRef<HTMLHeadingElement>(null);
  useEffect(() => loadCart(), []);
  useEffect(() => {
    if (result.value) resultHeading.current?.focus();
  }, [result.value]);

  const errors = errorsOf(values.value);
  const shown = (field: FieldName) => touched.value.has(field) ? errors[field] : undefined;
  const set = (field: FieldName, value: string | boolean) => values.value = { ...values.value, [field]: value };
  const touch = (field: FieldName) => {
    if (!touched.value.has(field)) touched.value = new Set([...touched.value, field]);
  };
  const digits = cardDigits(String(values.value["creditCard.number"]));
  const brand = digits && digits.length >= 2 ? detectBrand(digits)?.name : undefined;

  async function submit(event: Event) {
    event.preventDefault();
    if (submitting.value) return;
    touched.value = new Set(ORDER_OF_FIELDS);
    const invalid = ORDER_OF_FIELDS.filter((field) => errors[field]);
    if (invalid.length > 0) {
      summary.value = `Please correct ${invalid.length === 1 ? "1 field" : `${invalid.length} fields`}.`;
      document.getElementById(id(invalid[0]))?.focus();
      return;
    }
    summary.value = "";
    const order = toOrder(values.value);
    // The same order keeps its key until it is answered, so retries cannot place it twice. "The same" is what the
    // orchestrator compares (orderDigest): a card number retyped with other spacing is still the same order.
    const digest = await orderDigest(order);
    if (attempt.current?.digest !== digest) attempt.current = { key: crypto.randomUUID(), digest };
    submitting.value = true;
    result.value = undefined;
    const client = createClient(checkoutService, {
      baseUrl: orchestratorUrl,
      peer: "the shop",
      timeoutMs: 20_000,
      retries: 0,
      breaker: false,
    });
    try {
      const answer = await client.PlaceOrder(order, { headers: { "Idempotency-Key": attempt.current.key } });
      attempt.current = undefined;
      const approved = answer.status === "Order Approved";
      if (approved) clearCart();
      result.value = { kind: "answer", approved, ...answer, rejections: codedReasons(answer) };
    } catch (error) {
      const code = error instanceof RpcError ? error.code : "unavailable";
      const retryable = code === "unavailable" || code === "deadline_exceeded" || code === "canceled";
      if (!retryable) attempt.current = undefined;
      result.value = {
        kind: "error",
        retryable,
        message: retryable
          ? "We could not confirm your order: it may or may not have been placed, and it will not be placed twice. Submit again to finish it."
          : shopperSentence(error instanceof Error ? error.message : String(error)),
      };
    } finally {
      submitting.value = false;
      // Never keep the card on the page once it was sent.
      values.value = { ...values.value, "creditCard.number": "", "creditCard.cvv": "" };
      touched.value = new Set([...touched.value].filter((f) => f !== "creditCard.number" && f !== "creditCard.cvv"));
    }
  }

  const answer = result.value;
  const approvedAnswer = answer?.kind === "answer" && answer.approved ? answer : undefined;
  if (!cartLoaded.value) return <p class="loading" aria-live="polite">Loading your cart…</p>;
  if (cart.value.length === 0 && !approvedAnswer) {
    return (
      <p class="empty">
        Your cart is empty. <a href="/">Browse the books</a> and add some first.
      </p>
    );
  }

  const input = (field: FieldName, extra: Record<string, unknown> = {}) => (
    <Field id={id(field)} label={FIELDS[field].label} error={shown(field)}>
      <input
        id={id(field)}
        name={field}
        value={String(values.value[field])}
        autocomplete={FIELDS[field].autocomplete}
        {...fieldAria(id(field), shown(field))}
        onInput={(event) =>
          set(field, event.currentTarget.value)}
        onBlur={() =>
          touch(field)}
        {...extra}
      />
    </Field>
  );

  return (
    <div class="checkout">
      {answer && (
        <section class={`result ${answer.kind === "answer" && answer.approved ? "approved" : "rejected"}`}>
          {answer.kind === "answer"
            ? (
              <>
                <h2 tabIndex={-1} ref={resultHeading}>{answer.approved ? "Order approved" : "Order rejected"}</h2>
                {answer.approved
                  ? (
                    <p>
                      Thank you! Your order <code>{answer.orderId}</code> is in the queue.{" "}
                      <a href={`/orders/${answer.orderId}`}>Follow your order</a>
                    </p>
                  )
                  : (
                    <>
                      <p>We could not accept this order:</p>
                      <ul class="reasons">
                        {answer.rejections.map((r, i) => <li key={i}>{shopperReason(r)}</li>)}
                      </ul>
                      <p>
                        <a href={`/orders/${answer.orderId}`}>See where it stopped</a>
                      </p>
                    </>
                  )}
                {answer.suggestedBooks.length > 0 && (
                  <>
                    <h3>You may also like</h3>
                    <ul class="suggested">
                      {answer.suggestedBooks.map((book) => (
                        <li key={book.bookId}>
                          <a href={`/books/${book.bookId}`}>{book.title}</a>{" "}
                          <span class="author">by {book.author}</span>{" "}
                          <AddToCart book={{ ...book, price: prices[book.bookId] ?? 0 }} />
                        </li>
                      ))}
                    </ul>
                  </>
                )}
              </>
            )
            : (
              <>
                <h2 tabIndex={-1} ref={resultHeading}>
                  {answer.retryable ? "The order is not confirmed yet" : "The order was not placed"}
                </h2>
                <p role="alert">{answer.message}</p>
              </>
            )}
        </section>
      )}
      {!approvedAnswer && (
        <form class="checkout-form" method="post" noValidate onSubmit={submit}>
          <section class="summary" aria-labelledby="summary-title">
            <h2 id="summary-title">Your order</h2>
            <ul>
              {cart.value.map((line) => (
                <li key={line.bookId}>
                  {line.quantity} × {line.title} <span class="price">{formatPrice(line.price * line.quantity)}</span>
                </li>
              ))}
            </ul>
            <p>
              Subtotal: <strong>{formatPrice(cartSubtotal.value)}</strong> · <a href="/cart">Edit cart</a>
            </p>
          </section>
          <fieldset>
            <legend>You</legend>
            {input("user.name")}
            {input("user.contact", { type: "text", inputMode: "email" })}
          </fieldset>
          <fieldset>
            <legend>Card</legend>
            {input("creditCard.number", { inputMode: "numeric" })}
            <p class="card-brand" aria-live="polite">{brand ? `Card: ${brand.toUpperCase()}` : "\u00a0"}</p>
            <div class="row">
              {input("creditCard.expirationDate", { placeholder: "MM/YY", inputMode: "numeric" })}
              {input("creditCard.cvv", { inputMode: "numeric" })}
            </div>
          </fieldset>
          <fieldset>
            <legend>Billing address</legend>
            {input("billingAddress.street")}
            <div class="row">
              {input("billingAddress.city")}
              {input("billingAddress.state")}
            </div>
            <div class="row">
              {input("billingAddress.zip")}
              <Field
                id={id("billingAddress.country")}
                label={FIELDS["billingAddress.country"].label}
                error={shown("billingAddress.country")}
              >
                <select
                  id={id("billingAddress.country")}
                  name="billingAddress.country"
                  value={String(values.value["billingAddress.country"])}
                  autocomplete="country"
                  {...fieldAria(id("billingAddress.country"), shown("billingAddress.country"))}
                  onChange={(event) => {
                    set("billingAddress.country", event.currentTarget.value);
                    touch("billingAddress.country");
                  }}
                >
                  <option value="">Choose a country</option>
                  {COUNTRIES.map((c) => <option key={c.code} value={c.code}>{c.name}</option>)}
                </select>
              </Field>
            </div>
          </fieldset>
          <fieldset>
            <legend>Delivery</legend>
            <div class="choices" role="radiogroup" aria-label="Shipping method">
              {SHIPPING_METHODS.map((method) => (
                <label key={method} class="choice">
                  <input
                    type="radio"
                    name="shippingMethod"
                    value={method}
                    checked={values.value.shippingMethod === method}
                    onChange={() => set("shippingMethod", method)}
                  />{" "}
                  {method}
                </label>
              ))}
            </div>
            <label class="choice">
              <input
                type="checkbox"
                name="giftWrapping"
                checked={values.value.giftWrapping === true}
                onChange={(event) => set("giftWrapping", event.currentTarget.checked)}
              />{" "}
              Gift wrapping
            </label>
            <Field id={id("userComment")} label={FIELDS.userComment.label} error={false}>
              <textarea
                id={id("userComment")}
                name="userComment"
                rows={2}
                maxLength={2000}
                value={String(values.value.userComment)}
                onInput={(event) => set("userComment", event.currentTarget.value)}
              />
            </Field>
            <Field id={id("termsAccepted")} error={shown("termsAccepted")}>
              <label class="choice">
                <input
                  id={id("termsAccepted")}
                  type="checkbox"
                  name="termsAccepted"
                  checked={values.value.termsAccepted === true}
                  {...fieldAria(id("termsAccepted"), shown("termsAccepted"))}
                  onChange={(event) => {
                    set("termsAccepted", event.currentTarget.checked);
                    touch("termsAccepted");
                  }}
                />{" "}
                {FIELDS.termsAccepted.label}
              </label>
            </Field>
          </fieldset>
          <p class="form-summary" role="status" aria-live="assertive">{summary.value}</p>
          <button type="submit" class="primary" disabled={submitting.value} aria-busy={submitting.value}>
            {submitting.value ? "Placing your order…" : `Place order · ${formatPrice(cartSubtotal.value)}`}
          </button>
        </form>
      )}
    </div>
  );
}
