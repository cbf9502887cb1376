/**
 * The federated MLP: d → 16 (ReLU) → 1 (sigmoid) in tfjs on its CPU backend,
 * its parameters flattened into one vector (W1, b1, W2, b2) so the
 * coordinator averages it like any other model. FedProx's proximal term is
 * added to the binary cross-entropy before the gradient is taken.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { seededRandom } from "@mercury/core/random";
import { permutation } from "./data.ts";
import type { Model } from "./models.ts";

const HIDDEN = 16;
let ready: Promise<void> | undefined;

/** The MLP over `d` features (tfjs's CPU backend is selected once). */
export async function mlpModel(d: number): Promise<Model> {
  // Production mode: no per-op NaN checks, and no "install tfjs-node" banner on stderr (it would show in notebooks).
  ready ??= (tf.enableProdMode(), tf.setBackend("cpu").then(() => tf.ready()));
  await ready;
  const shapes: [number, number][] = [[d, HIDDEN], [1, HIDDEN], [HIDDEN, 1], [1, 1]];
  const sizes = shapes.map(([a, b]) => a * b);
  const dim = sizes.reduce((s, v) => s + v, 0);
  const unflatten = (w: readonly number[]) => {
    let at = 0;
    return shapes.map((shape, k) => {
      const t = tf.tensor2d(w.slice(at, at + sizes[k]!), shape);
      at += sizes[k]!;
      return t;
    });
  };
  const logits = (p: tf.Tensor2D[], x: tf.Tensor2D) =>
    tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(x, p[0]!), p[1]!)), p[2]!), p[3]!) as tf.Tensor2D;
  return {
    kind: "mlp",
    dim,
    init(seed) {
      const rnd = seededRandom(seed);
      const w: number[] = [];
      shapes.forEach(([a, b], k) => {
        const scale = k % 2 === 1 ? 0 : Math.sqrt(2 / a);
        for (let i = 0; i < a * b; i++) w.push((rnd() * 2 - 1) * scale);
      });
      return w;
    },
    async train(w0, data, o) {
      const n = data.y.length;
      const vars = unflatten(w0).map((t) => tf.variable(t));
      const anchor = unflatten(w0);
      const opt = tf.train.sgd(o.lr);
      const x = tf.tensor2d(data.x, [n, d]);
      const y = tf.tensor2d(data.y, [n, 1]);
      for (let e = 0; e < o.epochs; e++) {
        const order = permutation(n, o.seed * 7919 + e);
        for (let b = 0; b < n; b += o.batch) {
          const idx = tf.tensor1d(order.slice(b, b + o.batch), "int32");
          opt.minimize(() => {
            const xb = tf.gather(x, idx), yb = tf.gather(y, idx);
            let loss: tf.Tensor = tf.losses.sigmoidCrossEntropy(yb, logits(vars, xb));
            if (o.mu > 0) {
              const prox = vars.map((v, k) => tf.sum(tf.square(tf.sub(v, anchor[k]!)))).reduce((a, b) => tf.add(a, b));
              loss = tf.add(loss, tf.mul(o.mu / 2, prox));
            }
            return loss as tf.Scalar;
          });
          idx.dispose();
        }
      }
      const out: number[] = [];
      for (const v of vars) out.push(...(await v.data()));
      tf.dispose([...vars, ...anchor, x, y]);
      opt.dispose();
      return out;
    },
    evaluate(w, data) {
      return tf.tidy(() => {
        const n = data.y.length;
        const p = tf.sigmoid(logits(unflatten(w), tf.tensor2d(data.x, [n, d]))).dataSync();
        let loss = 0, right = 0;
        for (let i = 0; i < n; i++) {
          const q = Math.min(1 - 1e-7, Math.max(1e-7, p[i]!));
          const yi = data.y[i]!;
          loss -= yi * Math.log(q) + (1 - yi) * Math.log(1 - q);
          if ((q >= 0.5 ? 1 : 0) === yi) right++;
        }
        return { loss: loss / n, accuracy: right / n };
      });
    },
  };
}
