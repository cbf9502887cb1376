/**
 * Compliance reports: column analysis against HIPAA Safe Harbor and GDPR
 * categories, k-anonymity and l-diversity, the privacy budget ledger, and
 * retention and access notes, as JSON, HTML and PDF.
 *
 * @example
 * ```ts
 * import { matchRule } from "@mercury/privacy/compliance";
 * import assert from "node:assert/strict";
 *
 * assert.equal(matchRule("contact", ["a@b.org", "c@d.com"])?.rule.id, "email");
 * assert.equal(matchRule("zip_code", [])?.rule.role, "quasi-identifier");
 * ```
 *
 * @module
 */
export { type ColumnRole, type IdentifierRule, matchRule, RULES } from "./rules.ts";
export {
  analyzeDataset,
  type AnalyzeOptions,
  type Anonymity,
  type ColumnFinding,
  type DatasetAnalysis,
} from "./analyze.ts";
export {
  buildReport,
  type ComplianceReport,
  type Finding,
  type GovernanceNotes,
  htmlToPdf,
  type LedgerEntry,
  type LedgerSummary,
  renderHtml,
  writeReport,
} from "./report.ts";
export { ledgerSummary } from "./ledger_summary.ts";
export { sensitiveRows, writeSensitiveCsv } from "./sample.ts";
