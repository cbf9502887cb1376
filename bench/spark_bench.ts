/**
 * Benchmark stub of the spark plugin: replace with a run against the named peer.
 *
 * @module
 */
import { SparkSession } from "@mercury/spark";

const ctx = { root: ".", verbose: false, endpoints: () => ({}) as never, print: () => {} };

Deno.bench("spark hello", () => {
  hello({ values: { times: 1 }, positionals: [] }, ctx);
});
