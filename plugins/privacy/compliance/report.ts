/**
 * The compliance report: findings from column analysis, anonymity measures,
 * the privacy budget ledger and retention and access notes, each mapped to
 * the GDPR article or HIPAA rule it concerns; rendered as JSON, HTML and a
 * PDF printed by headless Chromium (playwright-core driving Debian's
 * `chromium`). Every file is written to a temporary name and renamed.
 *
 * @module
 */
import { writeFileAtomic } from "@mercury/core/files";
import { escapeHtml } from "@mercury/core/html";
import type { DatasetAnalysis } from "./analyze.ts";

/** One query the privacy ledger recorded against the data set. */
export interface LedgerEntry {
  analyst: string;
  query: string;
  mechanism: string;
  epsilon: number;
  delta: number;
  at: string;
}

/** The ledger's view of one data set: budget, spent and entries. */
export interface LedgerSummary {
  dataset: string;
  budget: { epsilon: number; delta: number };
  spent: { epsilon: number; delta: number };
  entries: LedgerEntry[];
  /** Queries refused for lack of budget. */
  refused?: number;
}

/** Retention and access facts the report states and checks. */
export interface GovernanceNotes {
  retentionDays?: number;
  purpose?: string;
  access?: string[];
  lawfulBasis?: string;
}

/** One finding. */
export interface Finding {
  severity: "high" | "medium" | "info";
  area: "identifiers" | "anonymity" | "special categories" | "privacy budget" | "retention" | "access";
  title: string;
  detail: string;
  action?: string;
  regulations: string[];
}

/** The whole report. */
export interface ComplianceReport {
  dataset: string;
  generatedAt: string;
  analysis: DatasetAnalysis;
  ledger?: LedgerSummary;
  notes: GovernanceNotes;
  findings: Finding[];
}

/** Turns an analysis, a ledger and notes into findings. */
export function buildReport(
  analysis: DatasetAnalysis,
  ledger: LedgerSummary | undefined,
  notes: GovernanceNotes,
  now = new Date(),
): ComplianceReport {
  const findings: Finding[] = [];
  for (const c of analysis.columns) {
    if (!c.rule || !c.role) continue;
    const by = c.by === "values" ? "its values" : "its name";
    if (c.role === "direct identifier") {
      findings.push({
        severity: "high",
        area: "identifiers",
        title: `Direct identifier in "${c.name}": ${c.rule.label}`,
        detail: `Found by ${by}; ${c.distinct} distinct values in ${analysis.rows} rows.`,
        action: "Remove before release, or replace with a keyed pseudonym held apart from the data.",
        regulations: [
          ...(c.rule.hipaa ? [`HIPAA ${c.rule.hipaa}: must be removed for Safe Harbor de-identification`] : []),
          c.rule.gdpr,
          "GDPR Art. 4(5) (pseudonymisation), Art. 25(1) (data protection by design)",
        ],
      });
    } else if (c.role === "quasi-identifier") {
      const expr = analysis.generalised.expressions[c.name];
      findings.push({
        severity: "medium",
        area: "identifiers",
        title: `Quasi-identifier in "${c.name}": ${c.rule.label}`,
        detail:
          `Found by ${by}; ${c.distinct} distinct values. Combined with other quasi-identifiers it can single out people.`,
        action: expr ? `Generalise as ${expr} (Safe Harbor) or release only DP aggregates.` : "Coarsen or suppress.",
        regulations: [...(c.rule.hipaa ? [`HIPAA ${c.rule.hipaa}`] : []), c.rule.gdpr],
      });
    } else {
      findings.push({
        severity: c.rule.gdpr.includes("Art. 9") || c.rule.gdpr.includes("Art. 10") ? "high" : "medium",
        area: "special categories",
        title: `Sensitive attribute in "${c.name}": ${c.rule.label}`,
        detail: `Found by ${by}; ${c.distinct} distinct values.`,
        action: c.rule.gdpr.includes("Art. 9")
          ? "Record the Art. 9(2) condition relied on (e.g. (j) research with Art. 89(1) safeguards)."
          : "Limit to the purpose; prefer DP aggregates.",
        regulations: [c.rule.gdpr, ...(c.rule.hipaa ? [`HIPAA ${c.rule.hipaa}`] : [])],
      });
    }
  }
  const { raw, generalised, targetK } = analysis;
  if (raw.quasi.length > 0) {
    findings.push({
      severity: raw.k < targetK ? "high" : "info",
      area: "anonymity",
      title: `k-anonymity of (${raw.quasi.join(", ")}): k = ${raw.k} as stored, ${generalised.k} after generalisation`,
      detail: `${raw.classes} equivalence classes; ${raw.rowsBelowK} of ${analysis.rows} rows sit in classes smaller ` +
        `than k = ${targetK}. After Safe Harbor generalisation: ${generalised.classes} classes, ` +
        `${generalised.rowsBelowK} rows below k.`,
      action: generalised.k >= targetK
        ? "Release only the generalised quasi-identifiers."
        : "Generalise further or suppress the small classes; or release DP aggregates only.",
      regulations: [
        "GDPR Recital 26 (means reasonably likely to identify)",
        "HIPAA 45 CFR §164.514(b)(1) (expert determination: very small re-identification risk)",
      ],
    });
  }
  if (raw.sensitive !== undefined) {
    findings.push({
      severity: (generalised.l ?? 0) < 2 ? "high" : "info",
      area: "anonymity",
      title: `l-diversity of "${raw.sensitive}": l = ${raw.l} as stored, ${generalised.l} after generalisation`,
      detail: `${raw.classesBelowL2} classes as stored and ${generalised.classesBelowL2} after generalisation have ` +
        `a single "${raw.sensitive}" value: anyone known to be in such a class has it disclosed.`,
      action: "Merge classes until each holds at least 2 (better 3) distinct sensitive values.",
      regulations: ["GDPR Art. 9(1) (attribute disclosure of special category data)", "HIPAA 45 CFR §164.514(b)(1)"],
    });
  }
  if (ledger) {
    const share = ledger.spent.epsilon / ledger.budget.epsilon;
    findings.push({
      severity: share > 0.8 ? "medium" : "info",
      area: "privacy budget",
      title: `Differential privacy: ε ${fmt(ledger.spent.epsilon)} of ${fmt(ledger.budget.epsilon)} spent ` +
        `(δ ${ledger.spent.delta.toExponential(1)} of ${ledger.budget.delta.toExponential(1)})`,
      detail: `${ledger.entries.length} queries answered under DP` +
        (ledger.refused ? `, ${ledger.refused} refused for lack of budget.` : "."),
      action: share > 0.8 ? "Plan the remaining budget; no new analyses beyond it." : undefined,
      regulations: [
        "GDPR Art. 25(1) (state-of-the-art technical measures), Art. 89(1) (safeguards for statistics and research)",
        "HIPAA 45 CFR §164.514(b)(1)",
      ],
    });
  }
  findings.push(
    notes.retentionDays === undefined
      ? {
        severity: "medium",
        area: "retention",
        title: "No retention period recorded",
        detail: "The data set has no stated retention period.",
        action: "State how long the data is kept and delete or anonymise it after.",
        regulations: ["GDPR Art. 5(1)(e) (storage limitation), Art. 13(2)(a)", "HIPAA 45 CFR §164.316(b)(2)(i)"],
      }
      : {
        severity: "info",
        area: "retention",
        title: `Retention: ${notes.retentionDays} days${notes.purpose ? ` for ${notes.purpose}` : ""}`,
        detail: "Records are deleted or anonymised when the period ends; policies and the ledger are kept 6 years.",
        regulations: ["GDPR Art. 5(1)(e) (storage limitation), Art. 17", "HIPAA 45 CFR §164.316(b)(2)(i) (6 years)"],
      },
    {
      severity: notes.access?.length ? "info" : "medium",
      area: "access",
      title: notes.access?.length ? `Access limited to: ${notes.access.join(", ")}` : "No access roles recorded",
      detail: "Raw rows stay with the data owner; analysts receive DP answers through the ledger, which records " +
        "who asked what and what it cost.",
      action: notes.access?.length ? undefined : "Record who may read raw rows (least privilege).",
      regulations: [
        "GDPR Art. 32(1) (security of processing), Art. 30 (records of processing)",
        "HIPAA 45 CFR §164.312(a)(1) (access control), §164.312(b) (audit controls), §164.308(a)(4)",
      ],
    },
  );
  const order = { high: 0, medium: 1, info: 2 };
  findings.sort((a, b) => order[a.severity] - order[b.severity]);
  return { dataset: analysis.path, generatedAt: now.toISOString(), analysis, ledger, notes, findings };
}

const fmt = (x: number) => (Math.round(x * 1000) / 1000).toString();

/** The report as a self-contained HTML page (print-friendly). */
export function renderHtml(r: ComplianceReport): string {
  const e = escapeHtml;
  const a = r.analysis;
  const count = (s: Finding["severity"]) => r.findings.filter((f) => f.severity === s).length;
  const roles = (role: string) => a.columns.filter((c) => c.role === role).length;
  const tile = (label: string, value: string, tone = "") =>
    `<div class="tile ${tone}"><div class="v">${e(value)}</div><div class="l">${e(label)}</div></div>`;
  const findings = r.findings.map((f) =>
    `<tr class="${f.severity}"><td><span class="sev">${f.severity}</span></td><td>${e(f.area)}</td>` +
    `<td><b>${e(f.title)}</b><div>${e(f.detail)}</div>${
      f.action ? `<div class="act">→ ${e(f.action)}</div>` : ""
    }</td>` +
    `<td><ul>${f.regulations.map((x) => `<li>${e(x)}</li>`).join("")}</ul></td></tr>`
  ).join("");
  const columns = a.columns.map((c) =>
    `<tr><td><code>${e(c.name)}</code></td><td>${e(c.type)}</td><td class="n">${c.distinct}</td>` +
    `<td>${e(c.role ?? "—")}</td><td>${e(c.rule?.label ?? "")}${c.by ? ` <i>(by ${c.by})</i>` : ""}</td>` +
    `<td>${e(c.rule?.hipaa ?? "")}</td><td>${e(c.rule?.gdpr ?? "")}</td></tr>`
  ).join("");
  const ledger = r.ledger
    ? `<h2>Privacy budget ledger — ${e(r.ledger.dataset)}</h2><table><thead><tr><th>when</th><th>analyst</th>` +
      `<th>query</th><th>mechanism</th><th class="n">ε</th><th class="n">δ</th></tr></thead><tbody>` +
      r.ledger.entries.map((x) =>
        `<tr><td>${e(x.at)}</td><td>${e(x.analyst)}</td><td><code>${e(x.query)}</code></td><td>${e(x.mechanism)}</td>` +
        `<td class="n">${fmt(x.epsilon)}</td><td class="n">${x.delta ? x.delta.toExponential(1) : "0"}</td></tr>`
      ).join("") + `</tbody></table>`
    : `<h2>Privacy budget ledger</h2><p>No ledger was given for this data set.</p>`;
  return `<!doctype html><html><head><meta charset="utf-8"><title>Compliance report — ${e(r.dataset)}</title><style>
body{font:12px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1d2433;margin:28px}
h1{font-size:21px;margin:0 0 4px}h2{font-size:15px;margin:22px 0 8px;border-bottom:2px solid #e3e8f0;padding-bottom:3px}
.meta{color:#5b6577}.tiles{display:flex;gap:10px;margin:14px 0;flex-wrap:wrap}
.tile{border:1px solid #d9dfe8;border-radius:8px;padding:8px 12px;min-width:105px}.tile .v{font-size:19px;font-weight:650}
.tile .l{color:#5b6577;font-size:11px}.tile.bad .v{color:#b42318}.tile.warn .v{color:#b54708}.tile.ok .v{color:#067647}
table{border-collapse:collapse;width:100%;margin:6px 0}th,td{border-bottom:1px solid #e3e8f0;padding:5px 6px;vertical-align:top;text-align:left}
th{background:#f4f6fa;font-weight:600}td.n,th.n{text-align:right}ul{margin:0;padding-left:16px}
.sev{display:inline-block;border-radius:10px;padding:1px 8px;font-size:11px;font-weight:600;color:#fff}
tr.high .sev{background:#b42318}tr.medium .sev{background:#dc6803}tr.info .sev{background:#475467}
.act{color:#1849a9;margin-top:3px}code{font-size:11px}tr{page-break-inside:avoid}
h2{break-after:avoid;page-break-after:avoid}h2+table,h2+p{break-before:avoid}
</style></head><body>
<h1>Privacy compliance report</h1>
<div class="meta">Data set <code>${e(r.dataset)}</code> · ${a.rows} rows · ${a.columns.length} columns · generated ${
    e(r.generatedAt)
  } by Mercury privacy</div>
<div class="tiles">${tile("high-severity findings", String(count("high")), count("high") ? "bad" : "ok")}${
    tile("direct identifiers", String(roles("direct identifier")), roles("direct identifier") ? "bad" : "ok")
  }${tile("quasi-identifiers", String(roles("quasi-identifier")), "warn")}${
    tile("k as stored → generalised", `${a.raw.k} → ${a.generalised.k}`, a.generalised.k >= a.targetK ? "ok" : "bad")
  }${a.raw.sensitive ? tile(`l-diversity (${a.raw.sensitive})`, `${a.raw.l} → ${a.generalised.l}`) : ""}${
    r.ledger ? tile("ε spent / budget", `${fmt(r.ledger.spent.epsilon)} / ${fmt(r.ledger.budget.epsilon)}`) : ""
  }</div>
<h2>Findings</h2><table><thead><tr><th>severity</th><th>area</th><th>finding</th><th>GDPR / HIPAA</th></tr></thead><tbody>${findings}</tbody></table>
<h2>Column analysis</h2><table><thead><tr><th>column</th><th>type</th><th class="n">distinct</th><th>role</th><th>what</th><th>HIPAA Safe Harbor</th><th>GDPR</th></tr></thead><tbody>${columns}</tbody></table>
<h2>Quasi-identifiers and generalisation</h2><table><thead><tr><th>column</th><th>Safe Harbor generalisation</th></tr></thead><tbody>${
    a.raw.quasi.map((q) =>
      `<tr><td><code>${e(q)}</code></td><td><code>${e(a.generalised.expressions[q] ?? "kept as is")}</code></td></tr>`
    ).join("")
  }</tbody></table>
${ledger}
<h2>Retention and access</h2><p>Retention: ${
    r.notes.retentionDays === undefined ? "not recorded" : `${r.notes.retentionDays} days`
  }${r.notes.purpose ? ` · purpose: ${e(r.notes.purpose)}` : ""}${
    r.notes.lawfulBasis ? ` · lawful basis: ${e(r.notes.lawfulBasis)}` : ""
  }. Access: ${r.notes.access?.length ? e(r.notes.access.join(", ")) : "not recorded"}.</p>
<p class="meta">This report states what automated analysis found; it is not legal advice.</p>
</body></html>`;
}

const atomicWrite = (path: string, data: string | Uint8Array) => writeFileAtomic(path, data, { mkdir: false });

/** Writes the report as JSON, HTML and/or PDF (each atomically). */
export async function writeReport(
  r: ComplianceReport,
  out: { json?: string; html?: string; pdf?: string },
): Promise<void> {
  if (out.json) await atomicWrite(out.json, JSON.stringify(r, null, 2));
  const html = renderHtml(r);
  if (out.html) await atomicWrite(out.html, html);
  if (out.pdf) await atomicWrite(out.pdf, await htmlToPdf(html));
}

/** Prints `html` to PDF (A4) in headless Chromium. */
export async function htmlToPdf(html: string): Promise<Uint8Array> {
  const { chromium } = await import("playwright-core");
  const executablePath = Deno.env.get("MERCURY_CHROMIUM") ?? "/usr/bin/chromium";
  const browser = await chromium.launch({ executablePath, args: ["--no-sandbox"], headless: true });
  try {
    const page = await browser.newPage();
    await page.setContent(html, { waitUntil: "load" });
    return new Uint8Array(
      await page.pdf({
        format: "A4",
        landscape: true,
        printBackground: true,
        margin: { top: "12mm", bottom: "12mm", left: "10mm", right: "10mm" },
      }),
    );
  } finally {
    await browser.close();
  }
}
