import assert from "node:assert/strict";
import shipped from "./weights.json" with { type: "json" };
import { type FraudFeatures, fraudFeaturesSchema } from "./features.ts";
import { fraudModelSchema, loadFraudModel, predictFraud } from "./model.ts";
import { generateExamples } from "./synthetic.ts";
import {
  evaluate,
  predictProbability,
  serializeModel,
  TRAINING_CONFIG,
  trainShippedModel,
  WEIGHTS_URL,
} from "./train.ts";

const ordinary: FraudFeatures = {
  totalQuantity: 1,
  maxLineQuantity: 1,
  distinctBooks: 1,
  orderAmount: 15,
  disposableContact: 0,
  contactVelocity: 1,
  cardVelocity: 1,
  brandCountryMismatch: 0,
  expeditedShipping: 0,
  giftWrapping: 0,
  nameSuspicious: 0,
};

const obviousFraud: FraudFeatures = {
  totalQuantity: 40,
  maxLineQuantity: 20,
  distinctBooks: 2,
  orderAmount: 900,
  disposableContact: 1,
  contactVelocity: 8,
  cardVelocity: 8,
  brandCountryMismatch: 1,
  expeditedShipping: 1,
  giftWrapping: 0,
  nameSuspicious: 0,
};

Deno.test("retraining reproduces the shipped weights.json exactly", async () => {
  const retrained = trainShippedModel();
  assert.deepEqual(retrained, shipped);
  // Byte equality also catches hand edits and reformatting of the file.
  assert.equal(serializeModel(retrained), await Deno.readTextFile(WEIGHTS_URL));
});

Deno.test("shipped model generalises to a fresh seed", () => {
  const model = loadFraudModel();
  const fresh = generateExamples(10000, {
    seed: 4242,
    fraudRate: TRAINING_CONFIG.fraudRate,
  });
  const { accuracy, auc } = evaluate(model, fresh);
  assert.ok(auc >= 0.9, `AUC ${auc} < 0.9`);
  assert.ok(accuracy >= 0.85, `accuracy ${accuracy} < 0.85`);
});

Deno.test("obvious fraud scores high and is explained by its red flags", () => {
  const { probability, contributions } = predictFraud(
    loadFraudModel(),
    obviousFraud,
  );
  assert.ok(probability > 0.8, `probability ${probability} <= 0.8`);
  const top = contributions.slice(0, 3).map((c) => c.feature);
  assert.ok(
    top.includes("cardVelocity") || top.includes("disposableContact"),
    `top contributions were ${top.join(", ")}`,
  );
});

Deno.test("ordinary order scores low", () => {
  const { probability } = predictFraud(loadFraudModel(), ordinary);
  assert.ok(probability < 0.2, `probability ${probability} >= 0.2`);
});

Deno.test("contributions are sorted, complete and consistent with the probability", () => {
  const model = loadFraudModel();
  const { probability, contributions } = predictFraud(model, obviousFraud);
  assert.equal(contributions.length, model.featureNames.length);
  for (let i = 1; i < contributions.length; i++) {
    assert.ok(
      contributions[i - 1].contribution >= contributions[i].contribution,
    );
  }
  // Training-time scoring and runtime scoring must not drift apart.
  assert.ok(
    Math.abs(probability - predictProbability(model, obviousFraud)) < 1e-12,
  );
});

Deno.test("features schema rejects negative and non-finite numbers", () => {
  assert.equal(fraudFeaturesSchema.safeParse(ordinary).success, true);
  assert.equal(
    fraudFeaturesSchema.safeParse({ ...ordinary, orderAmount: -1 }).success,
    false,
  );
  assert.equal(
    fraudFeaturesSchema.safeParse({ ...ordinary, cardVelocity: -2 }).success,
    false,
  );
  assert.equal(
    fraudFeaturesSchema.safeParse({ ...ordinary, orderAmount: Infinity })
      .success,
    false,
  );
  assert.throws(() => predictFraud(loadFraudModel(), { ...ordinary, totalQuantity: -3 }));
});

Deno.test("model schema rejects reordered feature names", () => {
  const reordered = {
    ...shipped,
    featureNames: [...shipped.featureNames].reverse(),
  };
  assert.equal(fraudModelSchema.safeParse(shipped).success, true);
  assert.equal(fraudModelSchema.safeParse(reordered).success, false);
});

Deno.test("synthetic data is deterministic per seed", () => {
  const options = { seed: 7, fraudRate: 0.15 };
  assert.deepEqual(
    generateExamples(50, options),
    generateExamples(50, options),
  );
  assert.notDeepEqual(
    generateExamples(50, options),
    generateExamples(50, { ...options, seed: 8 }),
  );
});
