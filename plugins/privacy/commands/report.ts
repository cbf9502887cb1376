/**
 * `privacy report --output compliance_report.pdf`: column analysis,
 * k-anonymity and l-diversity, the ledger's budgets, retention and access
 * notes, with each finding mapped to GDPR or HIPAA (the ledger is read from
 * PostgreSQL with `--dataset`, or from a JSON export with `--ledger`); writes the PDF and, next
 * to it, the same report as JSON and HTML.
 *
 * @module
 */
import { MercuryError } from "@mercury/core";
import type { CommandArgs, CommandContext } from "@mercury/core/plugin";
import { analyzeDataset } from "../compliance/analyze.ts";
import { buildReport, type LedgerSummary, writeReport } from "../compliance/report.ts";
import { writeSensitiveCsv } from "../compliance/sample.ts";
import { ledgerSummary } from "../compliance/ledger_summary.ts";

/** Runs the command; exit 0 when written (findings do not change the exit code). */
export async function report(args: CommandArgs, ctx: CommandContext): Promise<number> {
  const v = args.values;
  const output = String(v.output);
  if (!/\.(pdf|html|json)$/i.test(output)) {
    throw new MercuryError("usage", `--output ${output} must end in .pdf, .html or .json`, {
      where: "privacy report",
      hint: "e.g. --output compliance_report.pdf",
    });
  }
  let data = v.data as string | undefined;
  if (!data) {
    data = `${ctx.root}/.mercury/privacy/sensitive_data.csv`;
    await Deno.mkdir(`${ctx.root}/.mercury/privacy`, { recursive: true });
    await writeSensitiveCsv(data, 2000, 7);
    ctx.print(`no --data given: analysing the generated sample patient table ${data}`);
  }
  let ledger: LedgerSummary | undefined;
  if (typeof v.dataset === "string") {
    const { Ledger } = await import("../ledger.ts");
    await using l = await Ledger.open({ schema: v["ledger-schema"] as string });
    ledger = await ledgerSummary(l, v.dataset);
  } else if (typeof v.ledger === "string") {
    try {
      ledger = JSON.parse(await Deno.readTextFile(v.ledger));
    } catch (err) {
      throw new MercuryError("input", `cannot read the ledger summary: ${(err as Error).message}`, {
        where: v.ledger,
        hint: "give the JSON a ledger export writes ({dataset, budget, spent, entries})",
      });
    }
  }
  const analysis = await analyzeDataset(data, {
    quasi: v.quasi as string[] | undefined,
    sensitive: v.sensitive as string | undefined,
    k: v.k as number,
  });
  const r = buildReport(analysis, ledger, {
    retentionDays: v["retention-days"] as number | undefined,
    access: v.access as string[] | undefined,
    purpose: v.purpose as string | undefined,
  });
  const stem = output.replace(/\.(pdf|html|json)$/i, "");
  const out = { json: `${stem}.json`, html: `${stem}.html`, pdf: output.endsWith(".pdf") ? output : undefined };
  await writeReport(r, out);
  const high = r.findings.filter((f) => f.severity === "high").length;
  ctx.print(
    `${r.findings.length} findings (${high} high) on ${analysis.rows} rows; k = ${analysis.raw.k} as stored, ` +
      `${analysis.generalised.k} generalised; wrote ${[out.pdf, out.html, out.json].filter(Boolean).join(", ")}`,
  );
  return 0;
}
