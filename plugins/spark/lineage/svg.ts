/**
 * Draws a {@linkcode SparkLineage} as an SVG laid out left to right: each
 * node in the column of its longest path from a source, datasets listing
 * their columns, dashed lines joining an output column to the input columns
 * it is derived from. Self-contained (no fonts or scripts fetched), so it
 * renders in a notebook, a browser or `rsvg-convert`. (A layered DAG is not a
 * vega-lite chart type, hence drawn here.)
 *
 * @example
 * ```ts
 * import { lineageSvg } from "@mercury/spark/lineage";
 * import assert from "node:assert/strict";
 * const svg = lineageSvg({
 *   nodes: [
 *     { id: "dataset:file:/a", kind: "dataset", namespace: "file", name: "/a", columns: ["x"] },
 *     { id: "job:m:copy", kind: "job", namespace: "m", name: "copy" },
 *   ],
 *   edges: [{ from: "dataset:file:/a", to: "job:m:copy" }],
 *   columns: [],
 * });
 * assert.match(svg, /^<svg/);
 * assert.match(svg, />copy</);
 * ```
 *
 * @module
 */
import { escapeHtml } from "@mercury/core/html";
import type { LineageNode, SparkLineage } from "./graph.ts";

const COLORS: Record<LineageNode["kind"], string> = {
  dataset: "#e3f2fd",
  job: "#fff3e0",
  feature_source: "#e8f5e9",
  feature_view: "#e8f5e9",
  on_demand_feature_view: "#e8f5e9",
  feature_service: "#f3e5f5",
  model: "#fce4ec",
};

const W = 250, GX = 90, GY = 22, PAD = 20, HEAD = 34, ROW = 14, MAX_COLS = 12;

/** A dataset's last path segment (its folder goes on the second line). */
function label(n: LineageNode): string {
  if (n.kind === "job") {
    // Spark's job names are <app>.<operation>.<target>: the app and the target on top, the operation below.
    const parts = n.name.split(".");
    return parts.length > 2 ? `${parts[0]} → ${parts.at(-1)}` : n.name;
  }
  if (n.kind !== "dataset") return n.name;
  return n.name.split("/").filter(Boolean).at(-1) ?? n.name;
}

function folder(n: LineageNode): string {
  const parts = n.name.split("/").filter(Boolean);
  return parts.length > 1 ? `${n.name.startsWith("/") ? "/" : ""}${parts.slice(0, -1).join("/")}` : "";
}

function shortenLeft(text: string, max: number): string {
  return text.length > max ? `…${text.slice(text.length - max + 1)}` : text;
}

function shorten(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** The graph as SVG text (see the module doc). */
export function lineageSvg(g: SparkLineage): string {
  // Layer = longest path from a node without inputs.
  const layer = new Map<string, number>();
  const incoming = new Map<string, string[]>();
  for (const e of g.edges) (incoming.get(e.to) ?? incoming.set(e.to, []).get(e.to)!).push(e.from);
  const depth = (id: string, seen: Set<string>): number => {
    if (layer.has(id)) return layer.get(id)!;
    if (seen.has(id)) return 0; // a cycle: cut it
    seen.add(id);
    const d = Math.max(-1, ...(incoming.get(id) ?? []).map((p) => depth(p, seen))) + 1;
    layer.set(id, d);
    return d;
  };
  for (const n of g.nodes) depth(n.id, new Set());
  const layers: LineageNode[][] = [];
  for (const n of g.nodes) (layers[layer.get(n.id)!] ??= []).push(n);
  const shown = (n: LineageNode) => (n.columns ?? []).slice(0, MAX_COLS);
  const height = (n: LineageNode) => HEAD + (shown(n).length ? shown(n).length * ROW + 8 : 0);
  const pos = new Map<string, { x: number; y: number; h: number }>();
  let totalH = 0;
  layers.forEach((col, li) => {
    let y = PAD + 20;
    for (const n of (col ?? []).sort((a, b) => a.name.localeCompare(b.name))) {
      pos.set(n.id, { x: PAD + li * (W + GX), y, h: height(n) });
      y += height(n) + GY;
    }
    totalH = Math.max(totalH, y);
  });
  const width = PAD * 2 + layers.length * W + Math.max(0, layers.length - 1) * GX;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${
      totalH + PAD
    }" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<defs><marker id="arr" markerWidth="8" markerHeight="8" refX="8" refY="4" orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="#666"/></marker></defs>`,
    `<text x="${PAD}" y="${PAD}" fill="#555" font-weight="bold">OpenLineage: datasets → jobs → datasets${
      g.columns.length ? " (dashed: column lineage)" : ""
    }</text>`,
  ];
  for (const e of g.edges) {
    const a = pos.get(e.from), b = pos.get(e.to);
    if (!a || !b) continue;
    const ya = a.y + HEAD / 2, yb = b.y + HEAD / 2;
    out.push(
      `<path d="M${a.x + W},${ya} C${a.x + W + GX / 2},${ya} ${
        b.x - GX / 2
      },${yb} ${b.x},${yb}" stroke="#888" fill="none" marker-end="url(#arr)"/>`,
    );
  }
  const byId = new Map(g.nodes.map((n) => [n.id, n]));
  const colY = (id: string, field: string) => {
    const n = byId.get(id), p = pos.get(id);
    const i = n ? shown(n).indexOf(field) : -1;
    return p && i >= 0 ? p.y + HEAD + 4 + i * ROW + ROW / 2 : undefined;
  };
  for (const c of g.columns) {
    const a = pos.get(c.from), b = pos.get(c.to);
    const ya = colY(c.from, c.fromField), yb = colY(c.to, c.toField);
    if (!a || !b || ya === undefined || yb === undefined) continue;
    out.push(
      `<path d="M${a.x + W - 4},${ya} C${a.x + W + GX},${ya} ${b.x - GX},${yb} ${
        b.x + 4
      },${yb}" stroke="#1e88e5" stroke-dasharray="4 3" fill="none" opacity="0.7"/>`,
    );
  }
  for (const n of g.nodes) {
    const p = pos.get(n.id)!;
    const sub = n.kind === "job"
      ? `${n.name.split(".").length > 2 ? n.name.split(".").slice(1, -1).join(".") + " · " : ""}${n.state ?? ""}${
        n.runs ? ` · ${n.runs} run${n.runs > 1 ? "s" : ""}` : ""
      }`
      : n.kind === "dataset"
      ? `${n.namespace} · ${folder(n)}`
      : `${n.kind.replace(/_/g, " ")}`;
    out.push(
      `<rect x="${p.x}" y="${p.y}" width="${W}" height="${p.h}" rx="6" fill="${COLORS[n.kind]}" stroke="#999"/>`,
      `<text x="${p.x + 8}" y="${p.y + 15}" font-weight="bold">${escapeHtml(shorten(label(n), 38))}</text>`,
      `<text x="${p.x + 8}" y="${p.y + 28}" fill="#555" font-size="10">${escapeHtml(shortenLeft(sub, 42))}</text>`,
    );
    shown(n).forEach((c, i) =>
      out.push(
        `<text x="${p.x + 14}" y="${p.y + HEAD + 4 + i * ROW + 10}" font-size="11" fill="#333">${
          escapeHtml(shorten(c, 36))
        }</text>`,
      )
    );
    if ((n.columns?.length ?? 0) > MAX_COLS) {
      out.push(
        `<text x="${p.x + W - 60}" y="${p.y + 28}" fill="#555" font-size="10">+${
          n.columns!.length - MAX_COLS
        } more</text>`,
      );
    }
  }
  out.push("</svg>");
  return out.join("\n");
}
