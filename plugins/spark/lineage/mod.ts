/**
 * OpenLineage from the Spark listener: a collector endpoint
 * (`collector.ts`), storage in PostgreSQL (`store.ts`), the graph of input
 * datasets → jobs → output datasets with column lineage joined with the
 * feature store's (`graph.ts`), and an SVG drawing (`svg.ts`).
 *
 * @example
 * ```ts
 * import { lineageFromEvents, lineageSvg } from "@mercury/spark/lineage";
 * import assert from "node:assert/strict";
 * const g = lineageFromEvents([]);
 * assert.deepEqual(g, { nodes: [], edges: [], columns: [] });
 * assert.match(lineageSvg(g), /<\/svg>$/);
 * ```
 *
 * @module
 */
export {
  type ColumnEdge,
  datasetId,
  type FeatureObject,
  joinFeatureLineage,
  lineageFromEvents,
  type LineageNode,
  type OlDataset,
  type OlEvent,
  parseOlEvent,
  type SparkLineage,
} from "./graph.ts";
export { LineageStore } from "./store.ts";
export { type CollectorOptions, serveLineage } from "./collector.ts";
export { lineageSvg } from "./svg.ts";
