/**
 * Query history kept in the browser (`localStorage`), newest first, at most {@linkcode HISTORY_SIZE} entries; a query
 * run again moves to the top. Older pages stored bare SQL strings: those still load.
 *
 * @example
 * ```ts
 * import { QueryHistory } from "./history.ts";
 * import assert from "node:assert/strict";
 *
 * const store = new Map<string, string>();
 * const h = new QueryHistory({ getItem: (k) => store.get(k) ?? null, setItem: (k, v) => void store.set(k, v) });
 * h.add({ sql: "select 1", rows: 1, ms: 2, at: 1 });
 * h.add({ sql: "select 2", rows: 1, ms: 2, at: 2 });
 * h.add({ sql: "select 1", rows: 1, ms: 3, at: 3 });
 * assert.deepEqual(h.list().map((e) => e.sql), ["select 1", "select 2"]);
 * ```
 *
 * @module
 */

/** One run. */
export interface HistoryEntry {
  sql: string;
  /** Rows in the answer (or on its first page, with `more`). */
  rows: number;
  more?: boolean;
  ms: number;
  /** Epoch milliseconds. */
  at: number;
  /** What ran it, when not the editor (e.g. "gap-fill over sales"). */
  label?: string;
}

/** What the history needs of `localStorage`. */
export interface KeyValue {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

/** Most entries kept. */
export const HISTORY_SIZE = 50;
const KEY = "olap-history";

/** The history over `store`. */
export class QueryHistory {
  constructor(private store: KeyValue) {}

  /** Newest first. */
  list(): HistoryEntry[] {
    try {
      const raw = JSON.parse(this.store.getItem(KEY) ?? "[]");
      if (!Array.isArray(raw)) return [];
      return raw.flatMap((e): HistoryEntry[] =>
        typeof e === "string"
          ? [{ sql: e, rows: 0, ms: 0, at: 0 }]
          : e && typeof e.sql === "string"
          ? [e as HistoryEntry]
          : []
      );
    } catch {
      return []; // a corrupt entry (hand-edited storage) must not break the page
    }
  }

  /** Adds `e` on top, dropping an earlier run of the same SQL. */
  add(e: HistoryEntry): void {
    const next = [e, ...this.list().filter((x) => x.sql !== e.sql)].slice(0, HISTORY_SIZE);
    this.store.setItem(KEY, JSON.stringify(next));
  }

  clear(): void {
    this.store.setItem(KEY, "[]");
  }
}
