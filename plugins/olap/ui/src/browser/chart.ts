/// <reference lib="dom" />
/**
 * The chart bundle (loaded by the page the first time a chart is drawn): compiles a vega-lite spec with vega-lite
 * and renders it as SVG with vega, in the browser, with tooltips.
 *
 * @module
 */
import { parse, View } from "vega";
import { compile, type TopLevelSpec } from "vega-lite";

let current: View | undefined;

/** Draws `spec` into `el`, replacing the chart drawn there before. */
export async function render(el: HTMLElement, spec: unknown): Promise<void> {
  current?.finalize();
  el.replaceChildren();
  const compiled = compile(spec as TopLevelSpec).spec;
  current = new View(parse(compiled), { renderer: "svg", container: el, hover: true });
  await current.runAsync();
}
