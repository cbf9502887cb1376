import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { clippedGradients, initParams, trainDpSgd } from "@mercury/privacy/dpsgd";
import { makeDataset } from "@mercury/privacy/federated/data";
import { RdpAccountant } from "@mercury/privacy/accounting/rdp";

const data = makeDataset("classification", 3000, 9);

Deno.test("DP-SGD per-example gradients equal tfjs autodiff one example at a time, and clipping bounds each", async () => {
  await tf.setBackend("cpu");
  for (const hidden of [0, 6]) {
    const params = initParams(8, hidden, 3);
    const x = tf.tensor2d(data.train.x.slice(0, 5 * 8), [5, 8]);
    const y = tf.tensor2d(data.train.y.slice(0, 5), [5, 1]);
    const { grads, norms } = clippedGradients(params, x, y, Infinity);
    const loss = (xi: tf.Tensor2D, yi: tf.Tensor2D) => () => {
      let z = tf.add(tf.matMul(xi, params[0] as tf.Tensor2D), params[1]!) as tf.Tensor2D;
      if (hidden) z = tf.add(tf.matMul(tf.relu(z), params[2] as tf.Tensor2D), params[3]!) as tf.Tensor2D;
      return tf.losses.sigmoidCrossEntropy(yi, z, undefined, 0, tf.Reduction.SUM) as tf.Scalar;
    };
    const total = params.map((p) => new Float32Array(p.size));
    const norm = await norms.data();
    for (let i = 0; i < 5; i++) {
      const xi = x.slice([i, 0], [1, 8]), yi = y.slice([i, 0], [1, 1]);
      const g = tf.variableGrads(loss(xi, yi), params).grads;
      let sq = 0;
      for (const [k, p] of params.entries()) {
        const gi = await g[p.name]!.data();
        gi.forEach((v, j) => (total[k]![j]! += v, sq += v * v));
      }
      assert.ok(Math.abs(Math.sqrt(sq) - norm[i]!) < 1e-4 * (1 + norm[i]!), `hidden ${hidden}, example ${i} norm`);
    }
    for (const [k, g] of grads.entries()) {
      const got = await g.data();
      got.forEach((v, j) => assert.ok(Math.abs(v - total[k]![j]!) < 1e-4, `hidden ${hidden}, param ${k}[${j}]`));
    }
    const clipped = clippedGradients(params, x, y, 0.01).grads;
    const sumNorm = Math.sqrt(clipped.reduce((s, g) => s + tf.sum(tf.square(g)).dataSync()[0]!, 0));
    assert.ok(sumNorm <= 5 * 0.01 + 1e-6, `clipped sum norm ${sumNorm}`);
  }
});

Deno.test("trainDpSgd: ε is the accountant's for the derived σ, and privacy costs little accuracy here", async () => {
  const priv = await trainDpSgd({ ...data, epsilon: 2, delta: 1e-5, epochs: 3, seed: 2 });
  const q = 128 / data.train.y.length;
  const expected = new RdpAccountant().composeSubsampledGaussian({ q, sigma: priv.noiseMultiplier, steps: priv.steps })
    .epsilon(1e-5).epsilon;
  assert.equal(priv.epsilon, expected);
  assert.ok(priv.epsilon <= 2 * (1 + 1e-5) && priv.epsilon > 1.9);
  const plain = await trainDpSgd({ ...data, epochs: 3, seed: 2 });
  assert.equal(plain.epsilon, Infinity);
  assert.ok(plain.accuracy > 0.68 && priv.accuracy > 0.6, `${plain.accuracy} / ${priv.accuracy}`);
});

Deno.test("trainDpSgd refuses ε ≤ 0 and δ ≥ 1", async () => {
  await assert.rejects(trainDpSgd({ ...data, epsilon: 0 }), /epsilon must be > 0/);
  await assert.rejects(trainDpSgd({ ...data, epsilon: -1 }), /epsilon must be > 0/);
  await assert.rejects(trainDpSgd({ ...data, epsilon: 1, delta: 1 }), /delta must be in \(0, 1\)/);
});
