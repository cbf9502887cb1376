/// <reference lib="dom" />
/**
 * Small DOM helpers of the web UI. Text always goes in through `textContent`, so no value from a result or the
 * catalog is ever parsed as HTML.
 *
 * @module
 */

/** The element with `id`. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (!e) throw new Error(`the page has no #${id}`);
  return e as T;
}

type Child = Node | string | false | undefined | null;

/** An element with attributes (`class`, `data-*`, `title`…) and children (strings become text). */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | boolean | undefined> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === true) e.setAttribute(k, "");
    else if (typeof v === "string") e.setAttribute(k, v);
  }
  for (const c of children) if (c !== false && c !== undefined && c !== null) e.append(c);
  return e;
}

/** A JSON POST; resolves to the response (the caller checks `ok`). */
export function post(path: string, body: unknown, signal?: AbortSignal): Promise<Response> {
  return fetch(path, {
    method: "POST",
    body: JSON.stringify(body),
    signal,
    headers: { "content-type": "application/json" },
  });
}

/** "3 min ago" for an epoch-millisecond time. */
export function ago(at: number, now = Date.now()): string {
  if (!at) return "";
  const s = Math.max(0, Math.round((now - at) / 1000));
  if (s < 60) return "just now";
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`;
  return new Date(at).toISOString().slice(0, 10);
}
