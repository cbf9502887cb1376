/**
 * Lineage from the registry: source → feature view → (on-demand view) →
 * feature service → model, as a graph that can be queried, written as a
 * Mermaid flowchart, or drawn as a small SVG.
 *
 * @module
 */
import { escapeHtml } from "@mercury/core/html";
import type { RegistryObject } from "./registry.ts";

/** A node of the lineage graph. */
export interface LineageNode {
  id: string;
  kind: "source" | "feature_view" | "on_demand_feature_view" | "feature_service" | "model";
  name: string;
  version?: number;
  owner?: string;
  /** Governance: PII features, retention. */
  pii?: string[];
  retentionDays?: number;
}

/** The lineage graph. */
export interface Lineage {
  nodes: LineageNode[];
  edges: { from: string; to: string }[];
}

const LAYERS: LineageNode["kind"][] = ["source", "feature_view", "on_demand_feature_view", "feature_service", "model"];

/**
 * Builds the lineage graph from current registry objects.
 *
 * @example
 * ```ts
 * import { lineageGraph } from "@mercury/features";
 * import assert from "node:assert/strict";
 * const o = (kind: string, name: string, spec: Record<string, unknown>) =>
 *   ({ kind, name, spec, hash: "", version: 1, createdBy: "", createdAt: new Date(), reason: "", deleted: false }) as never;
 * const g = lineageGraph([
 *   o("feature_view", "v", { source: { kind: "file_source", name: "tx" }, features: [{ name: "a", type: "int64" }] }),
 *   o("feature_service", "s", { features: ["v:a"] }),
 *   o("model", "m", { featureService: "s" }),
 * ]);
 * assert.deepEqual(g.edges, [{ from: "source:tx", to: "feature_view:v" }, { from: "feature_view:v", to: "feature_service:s" }, { from: "feature_service:s", to: "model:m" }]);
 * ```
 */
export function lineageGraph(objects: RegistryObject[]): Lineage {
  const nodes = new Map<string, LineageNode>();
  const edges: { from: string; to: string }[] = [];
  const add = (n: LineageNode) => nodes.set(n.id, { ...nodes.get(n.id), ...n });
  const edge = (from: string, to: string) => {
    if (!edges.some((e) => e.from === from && e.to === to)) edges.push({ from, to });
  };
  const viewId = (name: string) => {
    const odfv = objects.find((o) => o.kind === "on_demand_feature_view" && o.name === name);
    return `${odfv ? "on_demand_feature_view" : "feature_view"}:${name}`;
  };
  for (const o of objects) {
    const s = o.spec as Record<string, unknown>;
    const id = `${o.kind}:${o.name}`;
    if (o.kind === "entity") continue;
    add({ id, kind: o.kind, name: o.name, version: o.version, owner: s.owner as string | undefined });
    if (o.kind === "feature_view") {
      const src = s.source as { name: string; kind: string; batchSource?: { name: string } };
      add({ id: `source:${src.name}`, kind: "source", name: src.name });
      if (src.batchSource) {
        // A push source's history lives in its batch source.
        add({ id: `source:${src.batchSource.name}`, kind: "source", name: src.batchSource.name });
        edge(`source:${src.batchSource.name}`, `source:${src.name}`);
      }
      edge(`source:${src.name}`, id);
      const feats = (s.features as { name: string; pii?: boolean }[]) ?? [];
      nodes.get(id)!.pii = feats.filter((f) => f.pii).map((f) => f.name);
      nodes.get(id)!.retentionDays = s.retentionDays as number | undefined;
    } else if (o.kind === "on_demand_feature_view") {
      for (const ref of (s.inputs as string[]) ?? []) edge(viewId(ref.split(":")[0]!), id);
    } else if (o.kind === "feature_service") {
      for (const ref of (s.features as string[]) ?? []) edge(viewId(ref.split(":")[0]!), id);
    } else if (o.kind === "model") {
      edge(`feature_service:${s.featureService}`, id);
    }
  }
  const order = (n: LineageNode) => LAYERS.indexOf(n.kind);
  return { nodes: [...nodes.values()].sort((a, b) => order(a) - order(b) || a.name.localeCompare(b.name)), edges };
}

/**
 * Everything upstream and downstream of one node.
 *
 * @example
 * ```ts
 * import { lineageOf } from "@mercury/features";
 * import assert from "node:assert/strict";
 * const g = { nodes: [], edges: [{ from: "a", to: "b" }, { from: "b", to: "c" }] };
 * assert.deepEqual(lineageOf(g, "b"), { upstream: ["a"], downstream: ["c"] });
 * ```
 */
export function lineageOf(g: Lineage, id: string): { upstream: string[]; downstream: string[] } {
  const walk = (start: string, dir: "up" | "down") => {
    const seen = new Set<string>();
    const stack = [start];
    while (stack.length) {
      const cur = stack.pop()!;
      for (const e of g.edges) {
        const next = dir === "up" ? (e.to === cur ? e.from : undefined) : (e.from === cur ? e.to : undefined);
        if (next && !seen.has(next)) {
          seen.add(next);
          stack.push(next);
        }
      }
    }
    return [...seen].sort();
  };
  return { upstream: walk(id, "up"), downstream: walk(id, "down") };
}

/**
 * The graph as a Mermaid flowchart.
 *
 * @example
 * ```ts
 * import { lineageMermaid } from "@mercury/features";
 * import assert from "node:assert/strict";
 * const text = lineageMermaid({ nodes: [{ id: "source:tx", kind: "source", name: "tx" }], edges: [] });
 * assert.match(text, /^flowchart LR/);
 * ```
 */
export function lineageMermaid(g: Lineage): string {
  const id = (s: string) => s.replace(/[^A-Za-z0-9_]/g, "_");
  const lines = ["flowchart LR"];
  for (const n of g.nodes) {
    const label = `${n.kind.replace(/_/g, " ")}: ${n.name}${n.version ? ` v${n.version}` : ""}`;
    lines.push(`  ${id(n.id)}["${label}"]`);
  }
  for (const e of g.edges) lines.push(`  ${id(e.from)} --> ${id(e.to)}`);
  return lines.join("\n");
}

const COLORS: Record<LineageNode["kind"], string> = {
  source: "#e8f1fb",
  feature_view: "#e9f7ef",
  on_demand_feature_view: "#fdf5e6",
  feature_service: "#f3e8fb",
  model: "#fbe9e9",
};

/**
 * Draws the graph as an SVG: one column per layer, boxes with the name, version, owner and PII marks.
 *
 * @example
 * ```ts
 * import { lineageSvg } from "@mercury/features";
 * import assert from "node:assert/strict";
 * const svg = lineageSvg({ nodes: [{ id: "source:tx", kind: "source", name: "tx" }], edges: [] });
 * assert.match(svg, /^<svg/);
 * assert.match(svg, />tx</);
 * ```
 */
export function lineageSvg(g: Lineage): string {
  const layers = LAYERS.filter((k) => g.nodes.some((n) => n.kind === k));
  const w = 190, h = 46, gx = 60, gy = 18, pad = 20;
  const pos = new Map<string, { x: number; y: number }>();
  let maxRows = 1;
  layers.forEach((k, li) => {
    const col = g.nodes.filter((n) => n.kind === k);
    maxRows = Math.max(maxRows, col.length);
    col.forEach((n, i) => pos.set(n.id, { x: pad + li * (w + gx), y: pad + 18 + i * (h + gy) }));
  });
  const width = pad * 2 + layers.length * w + (layers.length - 1) * gx;
  const height = pad * 2 + 18 + maxRows * (h + gy);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<defs><marker id="arr" markerWidth="8" markerHeight="8" refX="8" refY="4" orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="#666"/></marker></defs>`,
  ];
  layers.forEach((k, li) =>
    parts.push(
      `<text x="${pad + li * (w + gx)}" y="${pad + 6}" fill="#555" font-weight="bold">${k.replace(/_/g, " ")}</text>`,
    )
  );
  for (const e of g.edges) {
    const a = pos.get(e.from), b = pos.get(e.to);
    if (!a || !b) continue;
    parts.push(
      `<path d="M${a.x + w},${a.y + h / 2} C${a.x + w + gx / 2},${a.y + h / 2} ${b.x - gx / 2},${b.y + h / 2} ${b.x},${
        b.y + h / 2
      }" stroke="#888" fill="none" marker-end="url(#arr)"/>`,
    );
  }
  for (const n of g.nodes) {
    const p = pos.get(n.id)!;
    const sub = [n.version ? `v${n.version}` : "", n.owner ?? "", n.pii?.length ? `PII: ${n.pii.join(",")}` : ""]
      .filter(Boolean).join(" · ");
    parts.push(
      `<rect x="${p.x}" y="${p.y}" width="${w}" height="${h}" rx="6" fill="${COLORS[n.kind]}" stroke="#999"/>`,
      `<text x="${p.x + 8}" y="${p.y + 18}" font-weight="bold">${escapeHtml(n.name)}</text>`,
      `<text x="${p.x + 8}" y="${p.y + 35}" fill="${n.pii?.length ? "#b00" : "#555"}" font-size="10">${
        escapeHtml(sub.slice(0, 34))
      }</text>`,
    );
  }
  parts.push("</svg>");
  return parts.join("\n");
}
