/**
 * Benchmark stub of the quality plugin: replace with a run against the named peer.
 *
 * @module
 */
import { hello } from "@mercury/quality";

const ctx = { root: ".", verbose: false, endpoints: () => ({}) as never, print: () => {} };

Deno.bench("quality hello", () => {
  hello({ values: { times: 1 }, positionals: [] }, ctx);
});
