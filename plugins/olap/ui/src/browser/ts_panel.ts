/// <reference lib="dom" />
/**
 * The Time series tab: one form per `POST /timeseries/<route>`, filled from the catalog (columns offered by
 * type), with the curl line that sends the same body kept in step with the form.
 *
 * @module
 */
import { quoteIdent } from "@mercury/core/sql";
import { kindOf, type ResultColumn } from "../chart_pick.ts";
import {
  curlFor,
  formBody,
  formOf,
  type FormValues,
  TIME_SERIES_FORMS,
  type TimeSeriesOp,
} from "../timeseries_forms.ts";
import { byId, h } from "./_dom.ts";

/** A catalog table as the forms need it. */
export interface PanelTable {
  name: string;
  columns: ResultColumn[];
}

/** The panel's state and what the page calls. */
export class TimeSeriesPanel {
  op: TimeSeriesOp = "gap-fill";
  table = "";
  private tables: PanelTable[] = [];

  constructor(private onChange: () => void = () => {}) {
    byId("ts-ops").replaceChildren(
      ...TIME_SERIES_FORMS.map((f) => {
        const b = h("button", { class: "ts-op", "data-op": f.op }, f.title);
        b.addEventListener("click", () => this.select(f.op));
        return b;
      }),
    );
  }

  /** Sets the catalog (keeps the chosen table when it is still there). */
  setTables(tables: PanelTable[]): void {
    this.tables = tables;
    if (!tables.some((t) => t.name === this.table)) this.table = tables[0]?.name ?? "";
    this.select(this.op);
  }

  /** Shows the form of `op`. */
  select(op: TimeSeriesOp): void {
    this.op = op;
    const form = formOf(op);
    document.querySelectorAll<HTMLElement>(".ts-op").forEach((b) => b.classList.toggle("active", b.dataset.op === op));
    byId("ts-what").textContent = form.what;
    const rows: Node[] = [];
    const tableSel = this.tableSelect("ts-table", this.table, (v) => {
      this.table = v;
      this.select(op);
    });
    rows.push(h("label", { class: "k", for: "ts-table" }, "table"), tableSel);
    // The right-hand table of an ASOF join: the one chosen before this re-render, else another table than the left.
    const right = this.value("right") || (this.tables.find((t) => t.name !== this.table)?.name ?? this.table);
    for (const f of form.fields) {
      const cols = this.columnsOf(f.ofRight ? right : this.table);
      const sorted = f.prefer ? [...cols].sort((a, b) => rank(a, f.prefer) - rank(b, f.prefer)) : cols;
      let input: HTMLElement;
      const id = `ts-f-${f.key}`;
      if (f.kind === "column") {
        input = h("select", { id, "data-key": f.key, class: "field" });
        if (f.optional) input.append(h("option", { value: "" }, "(default)"));
        for (const c of sorted) input.append(h("option", { value: c.name }, `${c.name}  ·  ${c.type}`));
        if (!f.optional && sorted[0]) (input as HTMLSelectElement).value = sorted[0].name;
      } else if (f.kind === "columns") {
        input = h("div", { class: "chips", id, "data-key": f.key, "data-list": "1" });
        const pick = !f.optional && sorted[0] && (!f.prefer || kindOf(sorted[0].type) === f.prefer)
          ? sorted[0].name
          : "";
        for (const c of cols) {
          const box = h("input", { type: "checkbox", value: c.name, checked: c.name === pick });
          input.append(h("label", { class: "chip", title: c.type }, box, c.name));
        }
      } else if (f.kind === "enum") {
        input = h("select", { id, "data-key": f.key, class: "field" });
        if (f.optional) input.append(h("option", { value: "" }, "(default)"));
        for (const o of f.options ?? []) input.append(h("option", { value: o }, o));
      } else if (f.kind === "table") {
        input = this.tableSelect(id, right, () => this.select(op));
        input.dataset.key = f.key;
      } else {
        input = h("input", {
          id,
          "data-key": f.key,
          class: "field",
          placeholder: f.placeholder ?? "",
          value: f.optional || f.kind !== "interval" ? "" : f.placeholder ?? "",
        });
      }
      input.addEventListener("change", () => this.refresh());
      input.addEventListener("input", () => this.refresh());
      if (f.kind === "steps") {
        // The event column's values, offered as chips that append a step.
        const wrap = h("div", {}, input, h("div", { class: "chips", id: "ts-step-values", style: "margin-top:4px" }));
        rows.push(h("label", { class: "k", for: id }, f.key, h("small", {}, f.help ?? "")), wrap);
        continue;
      }
      rows.push(
        h("label", { class: "k", for: id }, f.key, h("small", {}, f.optional ? "optional" : f.help ?? "")),
        input,
      );
    }
    byId("ts-fields").replaceChildren(...rows);
    byId("ts-fields").querySelector("[data-key=event]")?.addEventListener("change", () => void this.stepValues());
    void this.stepValues();
    this.refresh();
  }

  /** Lists the distinct values (at most 30) of the funnel's event column under its steps. */
  private async stepValues(): Promise<void> {
    const box = document.getElementById("ts-step-values");
    const event = this.value("event");
    if (!box || !event || !this.table) return;
    const sql = `select distinct ${quoteIdent(event)} as v from ${quoteIdent(this.table)} where ${
      quoteIdent(event)
    } is not null order by 1 limit 30`;
    const res = await fetch("/query", { method: "POST", body: JSON.stringify({ sql, format: "json" }) });
    if (!res.ok || this.value("event") !== event) return void res.body?.cancel();
    const { rows } = (await res.json()) as { rows: unknown[][] };
    box.replaceChildren(
      ...rows.map(([v]) => {
        const chip = h("span", { class: "chip add", "data-step": String(v), title: "add as the next step" }, `+ ${v}`);
        chip.addEventListener("click", () => {
          const steps = byId<HTMLInputElement>("ts-f-steps");
          steps.value = [...steps.value.split(",").map((x) => x.trim()).filter(Boolean), String(v)].join(", ");
          this.refresh();
        });
        return chip;
      }),
    );
  }

  /** The form's values. */
  values(): FormValues {
    const out: Record<string, string | string[]> = {};
    byId("ts-fields").querySelectorAll<HTMLElement>("[data-key]").forEach((e) => {
      const key = e.dataset.key!;
      out[key] = e.dataset.list
        ? [...e.querySelectorAll<HTMLInputElement>("input:checked")].map((i) => i.value)
        : (e as HTMLInputElement).value;
    });
    return out;
  }

  /** The body the form sends. */
  body(): Record<string, unknown> {
    return formBody(this.op, this.table, this.values());
  }

  private value(key: string): string {
    const e = byId("ts-fields").querySelector<HTMLInputElement>(`[data-key="${key}"]`);
    return e?.value ?? "";
  }

  private refresh(): void {
    byId("ts-curl").textContent = curlFor(location.origin + "/", this.op, this.body());
    this.onChange();
  }

  private columnsOf(table: string): ResultColumn[] {
    return this.tables.find((t) => t.name === table)?.columns ?? [];
  }

  private tableSelect(id: string, value: string, on: (v: string) => void): HTMLSelectElement {
    const s = h("select", { id, class: "field" });
    for (const t of this.tables) s.append(h("option", { value: t.name }, t.name));
    s.value = value;
    s.addEventListener("change", () => on(s.value));
    return s;
  }
}

function rank(c: ResultColumn, prefer?: string): number {
  return kindOf(c.type) === prefer ? 0 : 1;
}
