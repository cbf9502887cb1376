/**
 * The lineage graph from OpenLineage run events: input datasets → jobs →
 * output datasets, each dataset with the columns its `schema` facet names
 * and each output column with the input columns its `columnLineage` facet
 * derives it from. Events of one job are merged (START names the datasets,
 * COMPLETE adds the facets). The Spark application's own run event (no inputs,
 * no outputs) is left out, and so is a job that reads exactly the datasets it
 * writes (the listener reports the file listing after a write that way); a
 * dataset a job both reads and writes among others is kept as an output only.
 *
 * @example Two events of one job become two edges
 * ```ts
 * import { lineageFromEvents } from "@mercury/spark/lineage";
 * import assert from "node:assert/strict";
 * const ev = (eventType: string) => ({
 *   eventType, eventTime: "2026-01-01T00:00:00Z", run: { runId: "r1" },
 *   job: { namespace: "mercury", name: "copy" },
 *   inputs: [{ namespace: "file", name: "/a" }],
 *   outputs: [{ namespace: "file", name: "/b", facets: { columnLineage: { fields: {
 *     y: { inputFields: [{ namespace: "file", name: "/a", field: "x" }] } } } } }],
 * });
 * const g = lineageFromEvents([ev("START"), ev("COMPLETE")]);
 * assert.deepEqual(g.edges.map((e) => `${e.from} -> ${e.to}`), [
 *   "dataset:file:/a -> job:mercury:copy", "job:mercury:copy -> dataset:file:/b"]);
 * assert.deepEqual(g.columns, [{ from: "dataset:file:/a", fromField: "x", to: "dataset:file:/b", toField: "y" }]);
 * ```
 *
 * @module
 */
import { MercuryError } from "@mercury/core";

/** One OpenLineage dataset reference as the listener sends it. */
export interface OlDataset {
  namespace: string;
  name: string;
  facets?: Record<string, unknown>;
}

/** The parts of an OpenLineage RunEvent this plugin reads. */
export interface OlEvent {
  eventType: string;
  eventTime: string;
  run: { runId: string; facets?: Record<string, unknown> };
  job: { namespace: string; name: string; facets?: Record<string, unknown> };
  inputs?: OlDataset[];
  outputs?: OlDataset[];
  producer?: string;
}

/** A node: a dataset or a job. */
export interface LineageNode {
  id: string;
  kind: "dataset" | "job" | "feature_source" | "feature_view" | "feature_service" | "model" | "on_demand_feature_view";
  namespace: string;
  name: string;
  /** A dataset's columns (schema facet), when known. */
  columns?: string[];
  /** A job's last event type (COMPLETE, FAIL…) and runs seen. */
  state?: string;
  runs?: number;
}

/** A column-level edge: `to.toField` is derived from `from.fromField`. */
export interface ColumnEdge {
  from: string;
  fromField: string;
  to: string;
  toField: string;
}

/** The lineage graph. */
export interface SparkLineage {
  nodes: LineageNode[];
  edges: { from: string; to: string }[];
  columns: ColumnEdge[];
}

/** A dataset's node id. */
export const datasetId = (d: { namespace: string; name: string }): string => `dataset:${d.namespace}:${d.name}`;
const jobId = (j: { namespace: string; name: string }) => `job:${j.namespace}:${j.name}`;

/**
 * Checks that `value` is an OpenLineage RunEvent (the fields this plugin
 * reads), naming the first missing field.
 */
export function parseOlEvent(value: unknown): OlEvent {
  const e = value as Partial<OlEvent> | null;
  const missing = !e || typeof e !== "object"
    ? "the event"
    : typeof e.eventType !== "string"
    ? "eventType"
    : typeof e.eventTime !== "string"
    ? "eventTime"
    : typeof e.run?.runId !== "string"
    ? "run.runId"
    : typeof e.job?.name !== "string" || typeof e.job?.namespace !== "string"
    ? "job.namespace/job.name"
    : [...(e.inputs ?? []), ...(e.outputs ?? [])].some((d) => typeof d?.name !== "string")
    ? "inputs/outputs[].name"
    : undefined;
  if (missing) {
    throw new MercuryError("usage", `not an OpenLineage run event: ${missing} is missing`, {
      where: missing,
      hint: "POST OpenLineage RunEvents (spark.openlineage.transport.type=http)",
    });
  }
  return e as OlEvent;
}

/** Builds the graph from events (see the module doc). */
export function lineageFromEvents(events: OlEvent[]): SparkLineage {
  const nodes = new Map<string, LineageNode>();
  const edges = new Map<string, { from: string; to: string }>();
  const columns = new Map<string, ColumnEdge>();
  const runs = new Map<string, Set<string>>();
  const dataset = (d: OlDataset) => {
    const id = datasetId(d);
    const node = nodes.get(id) ?? { id, kind: "dataset" as const, namespace: d.namespace, name: d.name };
    const fields = (d.facets?.schema as { fields?: { name: string }[] } | undefined)?.fields;
    if (fields?.length) node.columns = fields.map((f) => f.name);
    nodes.set(id, node);
    return id;
  };
  for (const e of [...events].sort((a, b) => a.eventTime.localeCompare(b.eventTime))) {
    const outs = e.outputs ?? [];
    const outIds = new Set(outs.map(datasetId));
    const ins = (e.inputs ?? []).filter((d) => !outIds.has(datasetId(d)));
    if (ins.length === 0 && outs.length === 0) continue;
    if (ins.length === 0 && (e.inputs ?? []).length === outs.length && outs.length > 0) continue;
    const j = jobId(e.job);
    const job = nodes.get(j) ?? { id: j, kind: "job" as const, namespace: e.job.namespace, name: e.job.name };
    job.state = e.eventType;
    nodes.set(j, job);
    (runs.get(j) ?? runs.set(j, new Set()).get(j)!).add(e.run.runId);
    for (const d of ins) {
      const id = dataset(d);
      edges.set(`${id}>${j}`, { from: id, to: j });
    }
    for (const d of outs) {
      const id = dataset(d);
      edges.set(`${j}>${id}`, { from: j, to: id });
      const fields = (d.facets?.columnLineage as {
        fields?: Record<string, { inputFields?: { namespace: string; name: string; field: string }[] }>;
      } | undefined)?.fields ?? {};
      for (const [toField, f] of Object.entries(fields)) {
        for (const src of f.inputFields ?? []) {
          const from = datasetId(src);
          columns.set(`${from}.${src.field}>${id}.${toField}`, { from, fromField: src.field, to: id, toField });
        }
      }
    }
  }
  for (const [j, r] of runs) nodes.get(j)!.runs = r.size;
  // Datasets in the graph with no edge (a job dropped as a self-loop) are dropped too.
  const linked = new Set([...edges.values()].flatMap((e) => [e.from, e.to]));
  return {
    nodes: [...nodes.values()].filter((n) => linked.has(n.id)),
    edges: [...edges.values()],
    columns: [...columns.values()],
  };
}

/** A feature store registry object as `joinFeatureLineage` reads it (`@mercury/features`'s `RegistryObject`). */
export interface FeatureObject {
  kind: string;
  name: string;
  spec: unknown;
}

function stripUri(p: string): string {
  return p.replace(/^file:\/\//, "").replace(/\/+$/, "");
}

/**
 * Joins the feature store's lineage: a feature view whose file source reads
 * below a Spark output dataset's path gets an edge dataset → source → view →
 * feature service → model, as the features plugin draws them.
 *
 * @example
 * ```ts
 * import { joinFeatureLineage } from "@mercury/spark/lineage";
 * import assert from "node:assert/strict";
 * const spark = { nodes: [{ id: "dataset:file:/lake/daily", kind: "dataset" as const, namespace: "file", name: "/lake/daily" }], edges: [], columns: [] };
 * const g = joinFeatureLineage(spark, [
 *   { kind: "feature_view", name: "daily", spec: { source: { kind: "file_source", name: "daily_src", path: "/lake/daily/*.parquet" } } },
 * ]);
 * assert.deepEqual(g.edges, [
 *   { from: "dataset:file:/lake/daily", to: "feature_source:daily_src" },
 *   { from: "feature_source:daily_src", to: "feature_view:daily" },
 * ]);
 * ```
 */
export function joinFeatureLineage(g: SparkLineage, objects: FeatureObject[]): SparkLineage {
  const nodes = new Map(g.nodes.map((n) => [n.id, n]));
  const edges = [...g.edges];
  const edge = (from: string, to: string) => {
    if (!edges.some((e) => e.from === from && e.to === to)) edges.push({ from, to });
  };
  const datasets = g.nodes.filter((n) => n.kind === "dataset" && (n.namespace === "file" || n.name.startsWith("/")));
  const linkedViews = new Set<string>();
  for (const o of objects) {
    const s = o.spec as { source?: { kind: string; name: string; path?: string } };
    if (o.kind !== "feature_view" || s.source?.kind !== "file_source" || !s.source.path) continue;
    const path = stripUri(s.source.path);
    const from = datasets.find((d) => {
      const p = stripUri(d.name);
      return path === p || path.startsWith(p + "/");
    });
    if (!from) continue;
    const src = `feature_source:${s.source.name}`;
    nodes.set(src, { id: src, kind: "feature_source", namespace: "features", name: s.source.name });
    const view = `feature_view:${o.name}`;
    nodes.set(view, { id: view, kind: "feature_view", namespace: "features", name: o.name });
    edge(from.id, src);
    edge(src, view);
    linkedViews.add(o.name);
  }
  // Downstream of the linked views: feature services and models.
  const services = new Set<string>();
  for (const o of objects) {
    const s = o.spec as { features?: string[]; featureService?: string };
    if (o.kind === "feature_service") {
      const views = (s.features ?? []).map((r) => r.split(":")[0]!).filter((v) => linkedViews.has(v));
      if (views.length === 0) continue;
      const id = `feature_service:${o.name}`;
      nodes.set(id, { id, kind: "feature_service", namespace: "features", name: o.name });
      for (const v of new Set(views)) edge(`feature_view:${v}`, id);
      services.add(o.name);
    }
  }
  for (const o of objects) {
    const s = o.spec as { featureService?: string };
    if (o.kind === "model" && s.featureService && services.has(s.featureService)) {
      const id = `model:${o.name}`;
      nodes.set(id, { id, kind: "model", namespace: "features", name: o.name });
      edge(`feature_service:${s.featureService}`, id);
    }
  }
  return { nodes: [...nodes.values()], edges, columns: g.columns };
}
