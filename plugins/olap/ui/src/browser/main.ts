/// <reference lib="dom" />
/**
 * The web UI's page script (bundled with CodeMirror into `ui/dist/app.js` by `ui/build.ts`; type-checked, linted and format-checked by
 * `tests/olap/ui_bundle_test.ts` in a program of its own with the DOM's types, see `ui/build.ts`): table browser,
 * examples, history, the SQL editor, results with types and null counts, charts picked from the result's types,
 * time-series actions, explain, exports and shareable links.
 *
 * @module
 */
import { type ChartChoice, chartSpec, kindOf, pickChart, type ResultColumn } from "../chart_pick.ts";
import { createEditor } from "./editor.ts";
import { examplesFor, sqlName } from "../examples.ts";
import { type HistoryEntry, QueryHistory } from "../history.ts";
import { type Answer, countNulls, type NullCounts, nullCountSql, sortedSql, type SortOrder } from "../null_counts.ts";
import { grid } from "./results.ts";
import { queryFromHash, shareHash } from "../share.ts";
import { TimeSeriesPanel } from "./ts_panel.ts";
import { ago, byId, h, post } from "./_dom.ts";

interface TableInfo {
  name: string;
  rows: number;
  version: number;
  storage?: string;
  files: number;
  partitions: number;
  bytes?: number;
  partitionBy?: { name: string } | null;
  columns: ResultColumn[];
}

interface ApiError {
  error?: {
    kind?: string;
    message?: string;
    where?: string;
    position?: { line: number; column: number };
    hint?: string;
  };
}

const PAGE = 100;
const CHART_ROWS = 5000;

const state = {
  sql: "",
  /** The order of the grid's header clicks, applied to `sql` (which stays the query as written). */
  sort: undefined as SortOrder | undefined,
  page: 0,
  answer: undefined as Answer | undefined,
  more: false,
  nulls: undefined as NullCounts | undefined,
  source: "",
  ctl: undefined as AbortController | undefined,
  queryId: undefined as string | undefined,
  tables: [] as TableInfo[],
  choice: undefined as ChartChoice | undefined,
  chartRows: undefined as Record<string, unknown>[] | undefined,
  chartDrawn: false,
  /** Bumped by each new result, so a slow null count or chart of an older one is dropped. */
  generation: 0,
};

const queries = new QueryHistory(localStorage);
const editor = createEditor(byId("editor"), {
  run: (sql) => void run(sql),
  explain: (sql) => void explain(sql, false),
  share: () => void share(),
  cancel: () => (state.ctl ? (cancel(), true) : false),
});
const ts = new TimeSeriesPanel();

function toast(text: string): void {
  const t = byId("toast");
  t.textContent = text;
  t.classList.add("show");
  setTimeout(() => t.classList.remove("show"), 2200);
}

function showError(err: ApiError | Error | undefined): void {
  const box = byId("error");
  if (!err) {
    box.hidden = true;
    return;
  }
  const e = err instanceof Error ? { message: err.message } : err.error ?? { message: JSON.stringify(err) };
  let text = `${"kind" in e && e.kind ? e.kind + ": " : ""}${e.message}`;
  if ("where" in e && e.where) text += `\n  field: ${e.where}`;
  if ("position" in e && e.position) text += `\n  at line ${e.position.line}, column ${e.position.column}`;
  if ("hint" in e && e.hint) text += `\n  hint: ${e.hint}`;
  box.textContent = text;
  box.hidden = false;
}

function tab(name: string): void {
  document.querySelectorAll<HTMLElement>(".tab").forEach((t) => t.classList.toggle("active", t.dataset.view === name));
  document.querySelectorAll<HTMLElement>(".view").forEach((v) => v.classList.toggle("active", v.id === name));
  if (name === "chart-view" && !state.chartDrawn && state.choice) void drawChart(state.choice);
}
document.querySelectorAll<HTMLElement>(".tab").forEach((t) => t.addEventListener("click", () => tab(t.dataset.view!)));

// ---- table browser, examples, history -------------------------------------------------------------------------

async function loadTables(): Promise<void> {
  const res = await fetch("/tables");
  const { tables } = await res.json() as { tables: TableInfo[] };
  state.tables = tables;
  editor.setSchema(Object.fromEntries(tables.map((t) => [t.name, t.columns])));
  ts.setTables(tables);
  byId("table-count").textContent = String(tables.length);
  byId("server-info").textContent = `${tables.length} tables · ${
    tables.reduce((n, t) => n + t.rows, 0).toLocaleString()
  } rows`;
  renderTables();
  renderExamples();
}

function renderTables(): void {
  const filter = byId<HTMLInputElement>("table-filter").value.trim().toLowerCase();
  const box = byId("tables");
  box.replaceChildren();
  const shown = state.tables.filter((t) =>
    !filter || t.name.toLowerCase().includes(filter) || t.columns.some((c) => c.name.toLowerCase().includes(filter))
  );
  if (!shown.length) box.append(h("div", { class: "empty" }, state.tables.length ? "No match." : "No tables yet."));
  for (const t of shown) {
    const preview = h("button", { class: "preview", title: `select * from ${t.name} limit 100` }, "▶ Preview");
    const item = h(
      "div",
      { class: "table-item", "data-table": t.name },
      h("span", { class: "caret" }, "▶"),
      h("span", { class: "name" }, t.name),
      h("span", { class: "meta" }, `${t.rows.toLocaleString()} rows · v${t.version}`),
      preview,
    );
    const schema = h(
      "div",
      { class: "schema", "data-schema": t.name, hidden: !filter },
      ...t.columns.map((c) => {
        const col = h(
          "div",
          { class: "col", "data-column": c.name, title: "click to insert" },
          h("span", {}, c.name),
          h("span", { class: "ty" }, c.type),
        );
        col.addEventListener("click", () => editor.insert(sqlName(c.name)));
        return col;
      }),
      h(
        "div",
        { class: "foot" },
        `${t.partitions} partitions · ${t.files} files${t.partitionBy ? " · by " + t.partitionBy.name : ""}${
          t.storage ? " · " + t.storage : ""
        }`,
      ),
    );
    item.classList.toggle("open", !schema.hidden);
    item.addEventListener("click", () => {
      schema.hidden = !schema.hidden;
      item.classList.toggle("open", !schema.hidden);
      document.querySelectorAll(".table-item").forEach((x) => x.classList.remove("active"));
      item.classList.add("active");
      if (!editor.get().trim()) editor.set(`select * from ${sqlName(t.name)} limit 100`);
    });
    preview.addEventListener("click", (e) => {
      e.stopPropagation();
      const sql = `select * from ${sqlName(t.name)} limit 100`;
      editor.set(sql);
      void run(sql);
    });
    box.append(item, schema);
  }
}
byId("table-filter").addEventListener("input", renderTables);

function renderExamples(): void {
  byId("examples").replaceChildren(
    ...examplesFor(state.tables).map((ex) => {
      const d = h(
        "div",
        { class: "example", title: ex.sql },
        h("span", { class: "t" }, ex.title, h("small", {}, ex.sql.split("\n")[0]!.slice(0, 60))),
      );
      d.addEventListener("click", () => {
        editor.set(ex.sql);
        void run(ex.sql);
      });
      return d;
    }),
  );
}

function renderHistory(): void {
  const box = byId("history");
  const list = queries.list();
  box.replaceChildren();
  if (!list.length) box.append(h("div", { class: "empty" }, "Queries you run show up here."));
  for (const e of list) {
    const rerun = h("button", { class: "rerun", title: "run again" }, "▶");
    const d = h(
      "div",
      { class: "history-item", title: e.sql },
      h(
        "span",
        { class: "q" },
        e.label ?? e.sql.replace(/\s+/g, " "),
        h(
          "small",
          {},
          [e.at ? ago(e.at) : "", e.at ? `${e.rows}${e.more ? "+" : ""} rows · ${e.ms < 1 ? "<1" : e.ms} ms` : ""]
            .filter(Boolean).join(" · "),
        ),
      ),
      rerun,
    );
    d.addEventListener("click", () => editor.set(e.sql));
    rerun.addEventListener("click", (ev) => {
      ev.stopPropagation();
      editor.set(e.sql);
      void run(e.sql);
    });
    box.append(d);
  }
}
byId("history-clear").addEventListener("click", () => {
  queries.clear();
  renderHistory();
});

// ---- running, results -------------------------------------------------------------------------------------------

function busy(on: boolean): void {
  byId<HTMLButtonElement>("run").disabled = on;
  byId<HTMLButtonElement>("ts-run").disabled = on;
  byId<HTMLButtonElement>("cancel").disabled = !on;
}

/** The query the grid shows: `state.sql` in the order of the header clicks. */
function shownSql(): string {
  return state.sort ? sortedSql(state.sql, state.sort) : state.sql;
}

/** Runs `sql`; `keepSort` (paging, a header click) keeps the grid's order, a new run drops it. */
async function run(sql = editor.runnable(), page = 0, keepSort = false): Promise<void> {
  sql = sql.trim();
  if (!sql) return;
  if (!keepSort) state.sort = undefined;
  showError(undefined);
  state.ctl = new AbortController();
  state.queryId = "ui-" + Math.random().toString(36).slice(2);
  busy(true);
  const started = performance.now();
  const status = byId("status");
  status.textContent = "running…";
  const ticker = setInterval(
    () => (status.textContent = `running… ${((performance.now() - started) / 1000).toFixed(1)} s`),
    200,
  );
  try {
    const res = await post("/query", {
      sql: state.sort ? sortedSql(sql, state.sort) : sql,
      format: "json",
      limit: PAGE + 1,
      offset: page * PAGE,
      queryId: state.queryId,
    }, state.ctl.signal);
    const body = await res.json();
    clearInterval(ticker);
    if (!res.ok) {
      showError(body);
      byId("status").textContent = `failed (${res.status})`;
      // A position is in the text that ran: point at it when that is the whole editor.
      const at = (body as ApiError).error?.position;
      if (at && sql === editor.get().trim() && !/^\s/.test(editor.get())) editor.goto(at.line, at.column);
      return;
    }
    show(sql, page, body as Answer, res, page === 0 ? undefined : state.source);
  } catch (err) {
    if ((err as Error).name === "AbortError") byId("status").textContent = "cancelled";
    else showError(err as Error);
  } finally {
    clearInterval(ticker);
    busy(false);
    state.ctl = undefined;
  }
}

function sortBy(column: string): void {
  const desc = state.sort?.column === column ? !state.sort.desc : true;
  state.sort = { column, desc };
  void run(state.sql, 0, true);
}

/** Shows an answer of `sql` (page `page`); `source` names a time-series route when one answered it. */
function show(sql: string, page: number, a: Answer, res: Response, source?: string, measure?: string): void {
  const fresh = page === 0 || sql !== state.sql;
  state.sql = sql;
  state.page = page;
  state.answer = a;
  state.more = a.rows.length > PAGE;
  state.source = source ?? "";
  const rows = a.rows.slice(0, PAGE);
  const ms = Number(res.headers.get("x-olap-ms") ?? 0);
  if (fresh) {
    const gen = ++state.generation;
    state.nulls = state.more ? undefined : { nulls: countNulls(a.columns, rows), rows: rows.length, exact: true };
    if (state.more) {
      state.nulls = { nulls: countNulls(a.columns, rows), rows: rows.length, exact: false };
      void exactNulls(sql, a.columns.length, gen);
    }
    state.choice = pickChart(a.columns, rows, measure);
    state.chartRows = state.more
      ? undefined
      : rows.map((r) => Object.fromEntries(a.columns.map((c, i) => [c.name, r[i]])));
    state.chartDrawn = false;
    fillChartControls(a.columns, state.choice);
    byId("chart").replaceChildren(
      h("div", { class: "empty" }, state.choice ? "Drawing…" : "Nothing to chart in this result."),
    );
    queries.add({ sql, rows: rows.length, more: state.more, ms: Math.round(ms), at: Date.now(), label: source });
    renderHistory();
  }
  renderGrid();
  const first = page * PAGE;
  byId("page-info").textContent = rows.length ? `rows ${first + 1}–${first + rows.length}${state.more ? "+" : ""}` : "";
  byId<HTMLButtonElement>("prev").disabled = page === 0;
  byId<HTMLButtonElement>("next").disabled = !state.more;
  const cache = res.headers.get("x-olap-cache");
  const rollup = res.headers.get("x-olap-rollup");
  const status = byId("status");
  status.replaceChildren(
    `${rows.length}${state.more ? "+" : ""} rows · ${ms.toFixed(ms < 10 ? 2 : 0)} ms`,
    h("span", { class: `pill ${cache === "hit" ? "hit" : ""}` }, `cache ${cache ?? "–"}`),
    rollup ? h("span", { class: "pill" }, `rollup ${rollup}`) : "",
  );
  const active = document.querySelector<HTMLElement>(".tab.active")?.dataset.view;
  if (active === "chart-view" && state.choice) void drawChart(state.choice);
  else if (active !== "chart-view") tab("results");
}

function renderGrid(): void {
  const a = state.answer;
  if (!a) return;
  const meta = byId("result-meta");
  meta.replaceChildren(
    state.source ? h("span", {}, "from ", h("b", {}, state.source)) : "",
    h("span", {}, h("b", {}, String(a.columns.length)), " columns"),
    state.nulls?.exact
      ? h("span", {}, h("b", {}, state.nulls.rows.toLocaleString()), " rows in all")
      : h("span", {}, "counting rows…"),
  );
  byId("grid").replaceChildren(
    a.rows.length ? grid(a, PAGE, state.nulls, state.sort, sortBy) : h("div", { class: "empty" }, "No rows."),
  );
}

async function exactNulls(sql: string, width: number, gen: number): Promise<void> {
  try {
    const res = await post("/query", { sql: nullCountSql(sql), format: "json" });
    if (!res.ok || gen !== state.generation) return;
    const row = ((await res.json()) as Answer).rows[0] as number[] | undefined;
    if (!row || row.length !== width + 1) return;
    const total = Number(row[0]);
    state.nulls = { nulls: row.slice(1).map((n) => total - Number(n)), rows: total, exact: true };
    if (gen === state.generation) renderGrid();
  } catch {
    // A statement that cannot be a subquery (pragma, set…) keeps the counts of the rows shown.
  }
}

function cancel(): void {
  if (state.queryId) fetch(`/queries/${state.queryId}`, { method: "DELETE" }).catch(() => {});
  state.ctl?.abort();
}

async function explain(sql: string, analyze: boolean): Promise<void> {
  sql = sql.trim();
  if (!sql) return;
  showError(undefined);
  const res = await post("/explain", { sql, analyze });
  const body = await res.json();
  if (!res.ok) return showError(body);
  byId("plan").textContent = (body.rollup ? `answered by rollup ${body.rollup}\n` : "") + body.text;
  tab("plan-view");
}

async function share(): Promise<void> {
  const sql = editor.get().trim();
  if (!sql) return;
  const url = `${location.origin}${location.pathname}${shareHash(sql)}`;
  globalThis.history.replaceState(null, "", url);
  try {
    await navigator.clipboard.writeText(url);
    toast("Link to this query copied");
  } catch {
    toast("Link in the address bar");
  }
}

// ---- charts -----------------------------------------------------------------------------------------------------

function fillChartControls(columns: ResultColumn[], choice?: ChartChoice): void {
  for (const id of ["cx", "cy", "cc"]) {
    const sel = byId<HTMLSelectElement>(id);
    sel.replaceChildren(...(id === "cc" ? [h("option", { value: "" }, "(none)")] : []));
    for (const c of columns) sel.append(h("option", { value: c.name }, c.name));
  }
  if (!choice) return;
  byId<HTMLSelectElement>("mark").value = choice.mark;
  byId<HTMLSelectElement>("cx").value = choice.x.field;
  byId<HTMLSelectElement>("cy").value = choice.y.field;
  byId<HTMLSelectElement>("cc").value = choice.color?.field ?? "";
}

/** The chart the controls describe. */
function chosenByHand(): ChartChoice | undefined {
  const cols = state.answer?.columns ?? [];
  const find = (name: string) => cols.find((c) => c.name === name);
  const x = find(byId<HTMLSelectElement>("cx").value), y = find(byId<HTMLSelectElement>("cy").value);
  const color = find(byId<HTMLSelectElement>("cc").value);
  if (!x || !y) return undefined;
  const kx = kindOf(x.type) ?? "nominal", ky = kindOf(y.type) ?? "nominal";
  const mark = byId<HTMLSelectElement>("mark").value as ChartChoice["mark"];
  return {
    mark,
    x: { field: x.name, type: kx, ...(/^DATE$/i.test(x.type) ? { format: "%Y-%m-%d" } : {}) },
    y: ky === "quantitative"
      ? { field: y.name, type: ky }
      : { field: y.name, type: "quantitative", aggregate: "count" },
    ...(color ? { color: { field: color.name, type: "nominal" } } : {}),
    reason: `${mark} of ${y.name} by ${x.name}, as chosen`,
  };
}

async function chartRows(gen: number): Promise<Record<string, unknown>[] | undefined> {
  if (state.chartRows) return state.chartRows;
  const res = await post("/query", { sql: shownSql(), format: "json", limit: CHART_ROWS });
  if (!res.ok || gen !== state.generation) return undefined;
  const a = (await res.json()) as Answer;
  state.chartRows = a.rows.map((r) => Object.fromEntries(a.columns.map((c, i) => [c.name, r[i]])));
  return state.chartRows;
}

let chartModule: Promise<{ render(el: HTMLElement, spec: unknown): Promise<void> }> | undefined;

async function drawChart(choice: ChartChoice): Promise<void> {
  const gen = state.generation;
  state.chartDrawn = true;
  try {
    const url = "/ui/chart.js";
    chartModule ??= import(url);
    const [mod, rows] = await Promise.all([chartModule, chartRows(gen)]);
    if (!rows || gen !== state.generation) return;
    const el = byId("chart");
    const width = Math.max(320, el.clientWidth - (choice.color ? 190 : 90));
    await mod.render(el, chartSpec(choice, rows, width));
    byId("chart-reason").textContent = `${choice.reason}${
      state.more ? ` (first ${rows.length.toLocaleString()} rows)` : ""
    }.`;
  } catch (err) {
    state.chartDrawn = false;
    showError(err as Error);
  }
}

byId("draw").addEventListener("click", () => {
  const c = chosenByHand();
  if (c) void drawChart(c);
});
byId("auto").addEventListener("click", () => {
  if (!state.answer) return;
  fillChartControls(state.answer.columns, state.choice);
  if (state.choice) void drawChart(state.choice);
});

// ---- time series ------------------------------------------------------------------------------------------------

async function runTimeSeries(): Promise<void> {
  showError(undefined);
  const body = ts.body();
  const op = ts.op;
  busy(true);
  byId("status").textContent = `running ${op}…`;
  try {
    const [res, sqlRes] = await Promise.all([
      post(`/timeseries/${op}`, { ...body, format: "json", limit: PAGE + 1 }),
      post(`/timeseries/${op}/sql`, body),
    ]);
    const answer = await res.json();
    if (!res.ok) {
      showError(answer);
      byId("status").textContent = `failed (${res.status})`;
      return;
    }
    const { sql } = (await sqlRes.json()) as { sql: string };
    state.sort = undefined;
    // What a builder adds is what to plot: the moving aggregate's column, a funnel's users, retention's share.
    const cols = (answer as Answer).columns;
    const measure = op === "moving"
      ? cols.at(-1)?.name
      : op === "funnel"
      ? "users"
      : op === "retention"
      ? "share"
      : undefined;
    show(sql, 0, answer as Answer, res, `POST /timeseries/${op} over ${body.table}`, measure);
    tab("results");
  } catch (err) {
    showError(err as Error);
  } finally {
    busy(false);
  }
}

byId("ts-run").addEventListener("click", () => void runTimeSeries());
byId("ts-sql").addEventListener("click", async () => {
  showError(undefined);
  const res = await post(`/timeseries/${ts.op}/sql`, ts.body());
  const body = await res.json();
  if (!res.ok) return showError(body);
  editor.set(body.sql);
  editor.focus();
  toast(`The SQL of ${ts.op} is in the editor`);
});

// ---- wiring -----------------------------------------------------------------------------------------------------

// A double click on a cell copies its value as the server sent it (the cell's tooltip), NULL as an empty string.
byId("grid").addEventListener("dblclick", async (e) => {
  const td = (e.target as HTMLElement).closest("td");
  if (!td) return;
  const value = td.querySelector(".null") ? "" : td.title;
  try {
    await navigator.clipboard.writeText(value);
    toast(`Copied ${value.length > 40 ? value.slice(0, 40) + "…" : value || "NULL"}`);
  } catch {
    toast("The browser did not allow copying");
  }
});

byId("run").addEventListener("click", () => void run());
byId("cancel").addEventListener("click", cancel);
byId("prev").addEventListener("click", () => void run(state.sql, state.page - 1, true));
byId("next").addEventListener("click", () => void run(state.sql, state.page + 1, true));
byId("explain").addEventListener("click", () => void explain(editor.runnable(), false));
byId("analyze").addEventListener("click", () => void explain(editor.runnable(), true));
byId("share").addEventListener("click", () => void share());
byId("keys").addEventListener("click", () => byId<HTMLDialogElement>("keys-dialog").showModal());
document.querySelectorAll<HTMLAnchorElement>("#exports a").forEach((a) =>
  a.addEventListener("click", () => {
    const sql = state.sql ? shownSql() : editor.get().trim();
    a.href = `/query?download=1&format=${a.dataset.format}&sql=${encodeURIComponent(sql)}`;
  })
);

function fromHash(): void {
  const sql = queryFromHash(location.hash);
  if (sql && sql !== editor.get()) {
    editor.set(sql);
    void run(sql);
  }
}
addEventListener("hashchange", fromHash);

/** For tests and the console: the editor and the page's actions. */
(globalThis as unknown as { olapUi: unknown }).olapUi = {
  editor,
  run,
  state,
  history: (): HistoryEntry[] => queries.list(),
};

renderHistory();
loadTables().catch((err) => showError(err as Error)).finally(fromHash);
