/**
 * Benchmark stub of the observe plugin: replace with a run against the named peer.
 *
 * @module
 */
import { hello } from "@mercury/observe";

const ctx = { root: ".", verbose: false, endpoints: () => ({}) as never, print: () => {} };

Deno.bench("observe hello", () => {
  hello({ values: { times: 1 }, positionals: [] }, ctx);
});
