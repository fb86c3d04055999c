/**
 * Runtime side of the fraud model: validates the shipped `weights.json`
 * and scores orders with per-feature explanations. Training code lives in
 * `train.ts` and is deliberately not imported here, so the service does
 * not load the data generator.
 *
 * @module
 */
import { z } from "zod";
import weights from "./weights.json" with { type: "json" };
import {
  FEATURE_LABELS,
  FEATURE_NAMES,
  type FeatureName,
  type FraudFeatures,
  fraudFeaturesSchema,
  sigmoid,
  standardize,
  toVector,
} from "./features.ts";

// zod 4 numbers reject NaN and ±Infinity, so these arrays are finite.
const numberArray = z.array(z.number());
const featureCount = FEATURE_NAMES.length;

/** Schema of `weights.json`; rejects files trained for another feature contract. */
export const fraudModelSchema = z
  .strictObject({
    version: z.literal(1),
    seed: z.number().int().nonnegative(),
    examples: z.number().int().positive(),
    featureNames: z.array(z.enum(FEATURE_NAMES)),
    mean: numberArray.length(featureCount),
    std: z.array(z.number().positive()).length(featureCount),
    weights: numberArray.length(featureCount),
    bias: z.number(),
    metrics: z.strictObject({
      accuracy: z.number().min(0).max(1),
      auc: z.number().min(0).max(1),
    }),
  })
  // Same names in another order would silently misalign every weight.
  .refine(
    (m) =>
      m.featureNames.length === featureCount &&
      m.featureNames.every((name, i) => name === FEATURE_NAMES[i]),
    {
      message: `featureNames must equal FEATURE_NAMES (${FEATURE_NAMES.join(", ")}); retrain with train.ts`,
      path: ["featureNames"],
    },
  );

/** Validated contents of `weights.json`. */
export type FraudModel = z.infer<typeof fraudModelSchema>;

/** How much one feature moved the logit for a given order. */
export type FeatureContribution = {
  feature: FeatureName;
  /** weight × standardized value; positive pushes toward fraud. */
  contribution: number;
  /** Human explanation from `FEATURE_LABELS`, phrased for the risky direction. */
  label: string;
};

/** Fraud score of one order with its explanation. */
export type FraudPrediction = {
  /** Probability in [0, 1] that the order is fraudulent. */
  probability: number;
  /** Every feature's contribution, largest (most fraud-like) first. */
  contributions: FeatureContribution[];
};

let cached: FraudModel | undefined;

/**
 * Returns the shipped model, validated once per process. Throws with a
 * readable message if `weights.json` does not match the schema or the
 * current feature contract, so drift fails at startup rather than
 * producing silent nonsense scores.
 */
export function loadFraudModel(): FraudModel {
  if (cached) return cached;
  const result = fraudModelSchema.safeParse(weights);
  if (!result.success) {
    throw new Error(
      `fraud_detection/model/weights.json is invalid:\n${z.prettifyError(result.error)}`,
    );
  }
  cached = result.data;
  return cached;
}

/**
 * Scores one order. Features are validated first, so malformed input
 * throws instead of yielding NaN. Contributions sum with the model bias
 * to the logit of `probability`.
 */
export function predictFraud(
  model: FraudModel,
  features: FraudFeatures,
): FraudPrediction {
  const z = standardize(toVector(fraudFeaturesSchema.parse(features)), model);
  const contributions = FEATURE_NAMES.map((feature, i) => ({
    feature,
    contribution: model.weights[i] * z[i],
    label: FEATURE_LABELS[feature],
  }));
  const logit = contributions.reduce(
    (sum, c) => sum + c.contribution,
    model.bias,
  );
  // Stable sort keeps FEATURE_NAMES order among ties, so output is deterministic.
  contributions.sort((a, b) => b.contribution - a.contribution);
  return { probability: sigmoid(logit), contributions };
}
