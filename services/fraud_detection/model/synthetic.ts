/**
 * Deterministic synthetic checkout data for training the fraud model.
 * There is no real labelled traffic, so the distributions below encode
 * plausible domain assumptions, with deliberate overlap (bulk-buying
 * schools, careful fraudsters, noisy flags) so the model cannot separate
 * the classes perfectly and stays honest about uncertainty.
 *
 * @module
 */
import type { FraudFeatures } from "./features.ts";

/** Uniform pseudo-random number source in [0, 1). */
export type Rng = () => number;

/**
 * Mulberry32 PRNG: tiny, fast and bit-for-bit reproducible across
 * platforms, which `Math.random` is not, so retraining yields the same
 * weights.
 */
export function mulberry32(seed: number): Rng {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Options for `generateExamples`. */
export type GenerateOptions = {
  /** PRNG seed; the same seed always yields the same examples. */
  seed: number;
  /** Probability that an example is fraudulent, in [0, 1]. */
  fraudRate: number;
};

/** One labelled training example; label 1 means fraud. */
export type LabeledExample = {
  features: FraudFeatures;
  label: 0 | 1;
};

const chance = (rng: Rng, p: number): 0 | 1 => (rng() < p ? 1 : 0);

const intBetween = (rng: Rng, min: number, max: number): number => min + Math.floor(rng() * (max - min + 1));

/** Picks an index with probability proportional to its weight. */
function weightedIndex(rng: Rng, weights: readonly number[]): number {
  const total = weights.reduce((sum, w) => sum + w, 0);
  let roll = rng() * total;
  for (let i = 0; i < weights.length; i++) {
    roll -= weights[i];
    if (roll < 0) return i;
  }
  return weights.length - 1;
}

/** Geometric count >= 0; models bursty repeat orders. */
function geometric(rng: Rng, continueProbability: number): number {
  let n = 0;
  // The cap only guards against pathological parameters.
  while (n < 50 && rng() < continueProbability) n++;
  return n;
}

/** Log-normal book price in USD, clamped to a realistic catalogue range. */
function bookPrice(rng: Rng, median: number): number {
  // Box-Muller; 1 - rng() avoids log(0).
  const normal = Math.sqrt(-2 * Math.log(1 - rng())) *
    Math.cos(2 * Math.PI * rng());
  return Math.min(150, Math.max(4, median * Math.exp(0.45 * normal)));
}

type Basket = Pick<
  FraudFeatures,
  "totalQuantity" | "maxLineQuantity" | "distinctBooks" | "orderAmount"
>;

function basket(
  rng: Rng,
  lines: number,
  lineQuantity: () => number,
  medianPrice: number,
): Basket {
  let total = 0;
  let maxLine = 0;
  let amount = 0;
  for (let i = 0; i < lines; i++) {
    const quantity = lineQuantity();
    total += quantity;
    maxLine = Math.max(maxLine, quantity);
    amount += quantity * bookPrice(rng, medianPrice);
  }
  return {
    totalQuantity: total,
    maxLineQuantity: maxLine,
    distinctBooks: lines,
    // Cents precision, like a real order total.
    orderAmount: Math.round(amount * 100) / 100,
  };
}

function legitimate(rng: Rng): FraudFeatures {
  // Schools and book clubs buy class sets, so big baskets alone must not
  // be proof of fraud.
  const bulkBuyer = rng() < 0.04;
  const lines = bulkBuyer ? intBetween(rng, 1, 4) : 1 + weightedIndex(rng, [60, 25, 9, 4, 2]);
  const order = basket(
    rng,
    lines,
    () => bulkBuyer ? intBetween(rng, 5, 30) : 1 + weightedIndex(rng, [85, 11, 3, 1]),
    // Class sets are mostly paperbacks, so bulk orders are cheap per book.
    bulkBuyer ? 11 : 18,
  );
  return {
    ...order,
    disposableContact: chance(rng, 0.04),
    contactVelocity: 1 + weightedIndex(rng, [84, 12, 3, 1]),
    // Shared family cards and retried payments give legit repeats too.
    cardVelocity: 1 + weightedIndex(rng, [82, 13, 4, 1]),
    // Travellers and expats legitimately trigger a mismatch.
    brandCountryMismatch: chance(rng, 0.06),
    expeditedShipping: chance(rng, 0.18),
    giftWrapping: chance(rng, 0.14),
    nameSuspicious: chance(rng, 0.06),
  };
}

function fraudulent(rng: Rng): FraudFeatures {
  // A share of fraudsters keep orders small and ordinary-looking; they are
  // the main source of irreducible error.
  if (rng() < 0.3) {
    const lines = 1 + weightedIndex(rng, [45, 30, 15, 10]);
    const order = basket(
      rng,
      lines,
      () => 1 + weightedIndex(rng, [70, 20, 10]),
      24,
    );
    return {
      ...order,
      ...signals(rng, SIGNAL_RATES.legitimate),
    };
  }
  // Resellers of stolen cards favour many copies of expensive titles,
  // fast shipping and rapid retries with one card.
  const lines = intBetween(rng, 1, 5);
  const order = basket(rng, lines, () => intBetween(rng, 1, 14), 24);
  return {
    ...order,
    ...signals(rng, SIGNAL_RATES.fraudulent),
  };
}

/**
 * Generates `count` labelled checkout examples. Deterministic for a given
 * seed, so the training script and tests see identical data.
 */
export function generateExamples(
  count: number,
  options: GenerateOptions,
): LabeledExample[] {
  const rng = mulberry32(options.seed);
  const examples: LabeledExample[] = [];
  for (let i = 0; i < count; i++) {
    const label = chance(rng, options.fraudRate);
    examples.push({
      features: label === 1 ? fraudulent(rng) : legitimate(rng),
      label,
    });
  }
  return examples;
}

/**
 * How likely each signal is in each class of orders (for the velocities: the
 * geometric distribution's parameter), in the order `signals` draws them:
 * disposable contact, contact velocity, card velocity, brand/country
 * mismatch, expedited shipping, gift wrapping, suspicious name.
 */
const SIGNAL_RATES = {
  legitimate: [0.22, 0.3, 0.35, 0.22, 0.38, 0.2, 0.18],
  fraudulent: [0.55, 0.6, 0.7, 0.45, 0.65, 0.28, 0.4],
} as const;

type SignalRates = typeof SIGNAL_RATES[keyof typeof SIGNAL_RATES];

// Draws the signals in a fixed order, so a seed always gives the same data.
function signals(rng: Rng, rates: SignalRates) {
  return {
    disposableContact: chance(rng, rates[0]),
    contactVelocity: 1 + geometric(rng, rates[1]),
    cardVelocity: 1 + geometric(rng, rates[2]),
    brandCountryMismatch: chance(rng, rates[3]),
    expeditedShipping: chance(rng, rates[4]),
    giftWrapping: chance(rng, rates[5]),
    nameSuspicious: chance(rng, rates[6]),
  };
}
