/**
 * Feature contract shared by the synthetic data generator, the training
 * script and the runtime model. Changing names or order here invalidates
 * `weights.json`; `loadFraudModel` refuses to load a file whose
 * `featureNames` differ, so retrain after any edit.
 *
 * @module
 */
import { z } from "zod";

// zod 4 numbers already reject NaN and ±Infinity, so only the sign and
// integrality need stating.
const count = () => z.number().int().nonnegative();
const flag = () => z.number().int().min(0).max(1);

/** Raw, unscaled model inputs derived from one checkout request. */
export const fraudFeaturesSchema = z.object({
  /** Total number of books in the order. */
  totalQuantity: count(),
  /** Largest quantity on a single order line. */
  maxLineQuantity: count(),
  /** Number of distinct books in the order. */
  distinctBooks: count(),
  /** Order total in USD. */
  orderAmount: z.number().nonnegative(),
  /** 1 if the contact email uses a disposable domain, else 0. */
  disposableContact: flag(),
  /** Orders from the same contact in the last 10 minutes, this one included (normally >= 1). */
  contactVelocity: count(),
  /** Orders with the same card in the last 10 minutes, this one included (normally >= 1). */
  cardVelocity: count(),
  /** 1 if the card brand is unusual for the billing country, else 0. */
  brandCountryMismatch: flag(),
  /** 1 for Express or Next-Day shipping, else 0. */
  expeditedShipping: flag(),
  /** 1 if the order is gift wrapped, else 0. */
  giftWrapping: flag(),
  /** 1 if the user name looks fake (single token, digits, repeated characters), else 0. */
  nameSuspicious: flag(),
});

/** Validated raw features of one order. */
export type FraudFeatures = z.infer<typeof fraudFeaturesSchema>;

/** Name of one model feature. */
export type FeatureName = keyof FraudFeatures;

/**
 * Fixed feature order of the model vector; weights, means and standard
 * deviations in `weights.json` are indexed by this order.
 */
export const FEATURE_NAMES = [
  "totalQuantity",
  "maxLineQuantity",
  "distinctBooks",
  "orderAmount",
  "disposableContact",
  "contactVelocity",
  "cardVelocity",
  "brandCountryMismatch",
  "expeditedShipping",
  "giftWrapping",
  "nameSuspicious",
] as const satisfies readonly FeatureName[];

/**
 * Human explanation of each feature, phrased for the risky direction so
 * it can be shown as a reason when the feature pushes toward fraud.
 */
export const FEATURE_LABELS: Readonly<Record<FeatureName, string>> = {
  totalQuantity: "unusually many books in the order",
  maxLineQuantity: "many copies of a single book",
  distinctBooks: "many different books in one order",
  orderAmount: "unusually large order total",
  disposableContact: "contact email uses a disposable domain",
  contactVelocity: "contact placed many orders in the last 10 minutes",
  cardVelocity: "card used for many orders in the last 10 minutes",
  brandCountryMismatch: "card brand is unusual for the billing country",
  expeditedShipping: "expedited shipping requested",
  giftWrapping: "gift wrapping requested",
  nameSuspicious: "user name looks fake",
};

// Counts and amounts are heavy-tailed; log1p keeps a 40-book order from
// dominating the linear score while still ranking it above a 4-book one,
// and maps 0 to 0 so the transform is defined for every valid input.
const LOG_SCALED: ReadonlySet<FeatureName> = new Set<FeatureName>([
  "totalQuantity",
  "maxLineQuantity",
  "distinctBooks",
  "orderAmount",
  "contactVelocity",
  "cardVelocity",
]);

/**
 * Converts features to the model's input vector in `FEATURE_NAMES` order.
 * Count and amount features (quantities, distinct books, order amount and
 * both velocities) are passed through `Math.log1p`; 0/1 flags are kept as-is.
 */
export function toVector(features: FraudFeatures): number[] {
  return FEATURE_NAMES.map((name) => LOG_SCALED.has(name) ? Math.log1p(features[name]) : features[name]);
}

/** Per-feature z-score parameters, indexed like `FEATURE_NAMES`. */
export type Standardization = {
  readonly mean: readonly number[];
  readonly std: readonly number[];
};

/**
 * Z-scores a vector from `toVector` with the training-set statistics, so
 * training and inference share one scaling path.
 */
export function standardize(
  vector: readonly number[],
  stats: Standardization,
): number[] {
  return vector.map((value, i) => (value - stats.mean[i]) / stats.std[i]);
}

/** Numerically safe logistic function; large |z| saturates instead of overflowing. */
export function sigmoid(z: number): number {
  // Split by sign so Math.exp never overflows to Infinity/Infinity.
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}
