/**
 * A run as JSON (GX's validation result with the score) and as JUnit XML
 * (one test case per expectation, a failure element for each unmet one), and
 * the report as PDF through headless Chromium (playwright-core driving
 * `/usr/bin/chromium`, or `MERCURY_CHROMIUM`).
 *
 * @module
 */
import { escapeHtml } from "@mercury/core/html";
import { MercuryError } from "@mercury/core/plugin";
import type { ValidationRun } from "../types.ts";
import type { QualityScore } from "../score.ts";
import { expectationKey } from "../diff.ts";

/** The run and its score as pretty JSON. */
export function renderJson(run: ValidationRun, score: QualityScore): string {
  return JSON.stringify({ ...run, score }, null, 2) + "\n";
}

/**
 * JUnit XML: a `testsuite` named after the suite, a `testcase` per expectation.
 *
 * @example
 * ```ts
 * import { renderJunit } from "./formats.ts";
 * import assert from "node:assert/strict";
 *
 * const xml = renderJunit({ suite_name: "s", run_id: "r", started_at: "2026-01-01T00:00:00Z", ended_at: "2026-01-01T00:00:02Z",
 *   results: [{ success: false, expectation_config: { type: "expect_column_values_to_not_be_null", kwargs: { column: "a" } },
 *     result: { unexpected_count: 2 }, exception_info: { raised_exception: false, exception_message: null, exception_traceback: null }, meta: {} }] } as never);
 * assert.match(xml, /<testsuite name="s" tests="1" failures="1" errors="0"/);
 * ```
 */
export function renderJunit(run: ValidationRun): string {
  const secs = Math.max(0, (Date.parse(run.ended_at) - Date.parse(run.started_at)) / 1000);
  const failures = run.results.filter((r) => !r.success && !r.exception_info?.raised_exception).length;
  const errors = run.results.filter((r) => r.exception_info?.raised_exception).length;
  const cases = run.results.map((r) => {
    const name = escapeHtml(expectationKey(r.expectation_config));
    const res = r.result ?? {};
    const body = r.exception_info?.raised_exception
      ? `<error message="${escapeHtml(r.exception_info.exception_message ?? "error")}"/>`
      : r.success
      ? ""
      : `<failure message="${
        escapeHtml(
          res.observed_value !== undefined
            ? `observed ${JSON.stringify(res.observed_value)}`
            : `${res.unexpected_count ?? "?"} unexpected (${res.unexpected_percent ?? "?"} %)`,
        )
      }">${escapeHtml(JSON.stringify({ kwargs: r.expectation_config.kwargs, result: res }))}</failure>`;
    return `    <testcase classname="${escapeHtml(run.suite_name)}" name="${name}">${body}</testcase>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="dq-validate">
  <testsuite name="${
    escapeHtml(run.suite_name)
  }" tests="${run.results.length}" failures="${failures}" errors="${errors}" time="${secs}" timestamp="${
    escapeHtml(run.started_at)
  }" id="${escapeHtml(run.run_id)}">
${cases.join("\n")}
  </testsuite>
</testsuites>
`;
}

/** Prints an HTML page to PDF bytes in headless Chromium (A4, backgrounds kept). */
export async function htmlToPdf(html: string): Promise<Uint8Array> {
  const executablePath = Deno.env.get("MERCURY_CHROMIUM") ?? "/usr/bin/chromium";
  try {
    await Deno.stat(executablePath);
  } catch {
    throw new MercuryError("not_found", `no Chromium at ${executablePath} for the PDF report`, {
      where: "--format pdf",
      hint: "apt-get install chromium, or set MERCURY_CHROMIUM to a Chromium binary",
    });
  }
  const { chromium } = await import("playwright-core");
  const browser = await chromium.launch({ executablePath, args: ["--no-sandbox"], headless: true });
  try {
    const page = await browser.newPage();
    await page.setContent(html, { waitUntil: "load" });
    return await page.pdf({
      format: "A4",
      printBackground: true,
      margin: { top: "12mm", bottom: "12mm", left: "10mm", right: "10mm" },
    });
  } finally {
    await browser.close();
  }
}
