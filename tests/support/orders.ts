/**
 * Orders for tests: valid by default, each with its own card and contact so
 * that velocity rules never see two tests as one customer.
 *
 * @module
 */

/** A Luhn-valid card number with the given prefix and length. */
export function cardNumber(prefix = "4", length = 16): string {
  let digits = prefix;
  while (digits.length < length - 1) digits += String(Math.floor(Math.random() * 10));
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return digits + String((10 - (sum % 10)) % 10);
}

/** An expiry date two years from now, "MM/YY". */
export function futureExpiry(): string {
  const now = new Date();
  return `${String(now.getUTCMonth() + 1).padStart(2, "0")}/${String(now.getUTCFullYear() + 2).slice(2)}`;
}

/** A valid order in the seeds' JSON shape. */
export function validOrder(overrides: Record<string, unknown> = {}) {
  const tag = crypto.randomUUID().slice(0, 8);
  return {
    user: { name: "Ada Lovelace", contact: `ada.${tag}@example.com` },
    creditCard: { number: cardNumber(), expirationDate: futureExpiry(), cvv: "123" },
    userComment: "Please deliver after 5pm",
    items: [{ name: "Dune", quantity: 1 }, { bookId: "foundation", quantity: 2 }],
    billingAddress: { street: "Narva mnt 18", city: "Tartu", state: "Tartumaa", zip: "51009", country: "EE" },
    shippingMethod: "Standard",
    giftWrapping: false,
    termsAccepted: true,
    ...overrides,
  };
}
