/**
 * Benchmark stub of the privacy plugin: replace with a run against the named peer.
 *
 * @module
 */
import { hello } from "@mercury/privacy";

const ctx = { root: ".", verbose: false, endpoints: () => ({}) as never, print: () => {} };

Deno.bench("privacy hello", () => {
  hello({ values: { times: 1 }, positionals: [] }, ctx);
});
