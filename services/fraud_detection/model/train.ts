/**
 * Trains the fraud logistic-regression model on synthetic data and writes
 * `weights.json` beside this file.
 *
 * Regenerate the shipped weights (from the repository root):
 *
 * ```sh
 * deno run --allow-write=services/fraud_detection/model/weights.json services/fraud_detection/model/train.ts
 * ```
 *
 * Training is fully deterministic (seeded PRNG, zero-initialised weights,
 * full-batch gradient descent, fixed epoch count, no timestamps), so the
 * command reproduces `weights.json` byte for byte; `model_test.ts` fails
 * if the shipped file is stale.
 *
 * @module
 */
import { FEATURE_NAMES, type FeatureName, type FraudFeatures, sigmoid, standardize, toVector } from "./features.ts";
import { generateExamples, type LabeledExample } from "./synthetic.ts";

/** Hyper-parameters for `trainModel`. */
export type TrainOptions = {
  /** Number of full-batch gradient-descent steps. */
  epochs: number;
  /** Gradient-descent step size. */
  learningRate: number;
  /** L2 penalty on the weights (the bias is not penalised). */
  l2: number;
};

/** Learned parameters of a standardized logistic-regression model. */
export type LinearModel = {
  /** Per-feature mean of the training vectors, in `FEATURE_NAMES` order. */
  mean: number[];
  /** Per-feature standard deviation of the training vectors (never 0). */
  std: number[];
  /** Weight per standardized feature, in `FEATURE_NAMES` order. */
  weights: number[];
  /** Intercept of the logit. */
  bias: number;
};

/** Classification quality on a labelled set. */
export type Metrics = {
  /** Fraction correct when flagging probability >= 0.5 as fraud. */
  accuracy: number;
  /** Area under the ROC curve (threshold-independent ranking quality). */
  auc: number;
};

/** Shape of `weights.json`, as produced by `trainShippedModel`. */
export type ShippedModel = LinearModel & {
  version: number;
  seed: number;
  examples: number;
  featureNames: FeatureName[];
  metrics: Metrics;
};

/**
 * Everything that determines the shipped weights. Changing any value
 * requires rerunning the script and committing the new `weights.json`.
 */
export const TRAINING_CONFIG = {
  /** Bumped when the file format or feature contract changes. */
  version: 1,
  seed: 20261121,
  examples: 20000,
  fraudRate: 0.15,
  /** Held-out set uses a different seed so metrics are not measured on training data. */
  holdoutSeed: 20261122,
  holdoutExamples: 5000,
  train: { epochs: 600, learningRate: 1, l2: 0.03 },
} as const;

// Fixed decimal places strip low-order float noise from the JSON so a
// different libm rounding in the last ulp does not change the file.
const DECIMALS = 6;
const round = (value: number): number => Number(value.toFixed(DECIMALS));

/** Fraud probability of one order under a linear model. */
export function predictProbability(
  model: LinearModel,
  features: FraudFeatures,
): number {
  const z = standardize(toVector(features), model);
  return sigmoid(
    z.reduce((sum, value, i) => sum + value * model.weights[i], model.bias),
  );
}

/**
 * Fits logistic regression with L2 regularization by full-batch gradient
 * descent on standardized features. Deterministic: same examples and
 * options always give the same parameters.
 */
export function trainModel(
  examples: readonly LabeledExample[],
  options: TrainOptions = TRAINING_CONFIG.train,
): LinearModel {
  if (examples.length === 0) throw new Error("cannot train on zero examples");
  const n = examples.length;
  const d = FEATURE_NAMES.length;
  const raw = examples.map((e) => toVector(e.features));

  const mean = new Array<number>(d).fill(0);
  for (const row of raw) for (let j = 0; j < d; j++) mean[j] += row[j] / n;
  const std = new Array<number>(d).fill(0);
  for (const row of raw) {
    for (let j = 0; j < d; j++) std[j] += (row[j] - mean[j]) ** 2 / n;
  }
  // A constant feature carries no signal; std 1 keeps it finite at 0.
  for (let j = 0; j < d; j++) std[j] = Math.sqrt(std[j]) || 1;

  const xs = raw.map((row) => standardize(row, { mean, std }));
  const ys = examples.map((e) => e.label);
  const weights = new Array<number>(d).fill(0);
  let bias = 0;
  const gradient = new Array<number>(d);
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    gradient.fill(0);
    let biasGradient = 0;
    for (let i = 0; i < n; i++) {
      const x = xs[i];
      let z = bias;
      for (let j = 0; j < d; j++) z += weights[j] * x[j];
      const error = sigmoid(z) - ys[i];
      for (let j = 0; j < d; j++) gradient[j] += error * x[j];
      biasGradient += error;
    }
    for (let j = 0; j < d; j++) {
      weights[j] -= options.learningRate *
        (gradient[j] / n + options.l2 * weights[j]);
    }
    bias -= options.learningRate * biasGradient / n;
  }
  return { mean, std, weights, bias };
}

/** Accuracy at threshold 0.5 and ROC AUC of `model` on `examples`. */
export function evaluate(
  model: LinearModel,
  examples: readonly LabeledExample[],
): Metrics {
  const scored = examples.map((e) => ({
    p: predictProbability(model, e.features),
    label: e.label,
  }));
  const correct = scored.filter((s) => (s.p >= 0.5 ? 1 : 0) === s.label).length;

  // Mann-Whitney form of AUC with average ranks, so tied scores count half.
  const sorted = [...scored].sort((a, b) => a.p - b.p);
  let positiveRankSum = 0;
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j < sorted.length && sorted[j].p === sorted[i].p) j++;
    const averageRank = (i + 1 + j) / 2;
    for (let k = i; k < j; k++) {
      if (sorted[k].label === 1) positiveRankSum += averageRank;
    }
    i = j;
  }
  const positives = scored.filter((s) => s.label === 1).length;
  const negatives = scored.length - positives;
  const auc = positives === 0 || negatives === 0 ? Number.NaN : (positiveRankSum - positives * (positives + 1) / 2) /
    (positives * negatives);
  return { accuracy: correct / scored.length, auc };
}

/**
 * Runs the full shipped pipeline from `TRAINING_CONFIG`: generate, train,
 * round, evaluate on the held-out seed. Returns exactly what belongs in
 * `weights.json`.
 */
export function trainShippedModel(): ShippedModel {
  const c = TRAINING_CONFIG;
  const trained = trainModel(
    generateExamples(c.examples, { seed: c.seed, fraudRate: c.fraudRate }),
    c.train,
  );
  // Metrics are measured on the rounded parameters that actually ship.
  const model: LinearModel = {
    mean: trained.mean.map(round),
    std: trained.std.map(round),
    weights: trained.weights.map(round),
    bias: round(trained.bias),
  };
  const holdout = generateExamples(c.holdoutExamples, {
    seed: c.holdoutSeed,
    fraudRate: c.fraudRate,
  });
  const metrics = evaluate(model, holdout);
  return {
    version: c.version,
    seed: c.seed,
    examples: c.examples,
    featureNames: [...FEATURE_NAMES],
    ...model,
    metrics: {
      accuracy: Number(metrics.accuracy.toFixed(4)),
      auc: Number(metrics.auc.toFixed(4)),
    },
  };
}

/** Serializes a model exactly as it is stored in `weights.json`. */
export function serializeModel(model: ShippedModel): string {
  return JSON.stringify(model, null, 2) + "\n";
}

/** Location of the shipped weights, beside this module. */
export const WEIGHTS_URL: URL = new URL("./weights.json", import.meta.url);

if (import.meta.main) {
  const model = trainShippedModel();
  await Deno.writeTextFile(WEIGHTS_URL, serializeModel(model));
  console.log(
    `trained on ${model.examples} examples (seed ${model.seed}); ` +
      `held-out accuracy ${model.metrics.accuracy}, AUC ${model.metrics.auc}`,
  );
  console.log(`wrote ${WEIGHTS_URL.pathname}`);
}
