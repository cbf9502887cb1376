/**
 * A seeded sensitive data set for demos and tests: a patient table with
 * direct identifiers (MRN, name, email, phone, SSN), quasi-identifiers (date
 * of birth, ZIP, gender, age, marital status), a diagnosis and the clinical
 * measurements of the federated data set. Nothing in it is real.
 *
 * @example
 * ```ts
 * import { sensitiveRows } from "@mercury/privacy/compliance";
 * import assert from "node:assert/strict";
 *
 * const rows = sensitiveRows(10, 1);
 * assert.equal(rows.length, 10);
 * assert.match(String(rows[0]!.email), /@/);
 * ```
 *
 * @module
 */
import { writeFileAtomic } from "@mercury/core/files";
import { seededRandom } from "@mercury/core/random";
import { clinicalRows } from "../federated/data.ts";

const FIRST = ["Ana", "Ben", "Chloé", "David", "Eva", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kemal", "Lea"];
const LAST = ["Garcia", "Smith", "Müller", "Nguyen", "Rossi", "Kowalski", "Okafor", "Tanaka", "Dubois", "Silva"];
const ZIPS = ["02139", "02140", "02141", "10001", "10002", "60601", "60602", "94103", "94107", "30301"];
const MARITAL = ["single", "married", "divorced", "widowed"];
const DIAGNOSES = ["hypertension", "type 2 diabetes", "asthma", "none", "depression", "coronary disease"];

/** `n` rows of the patient table. */
export function sensitiveRows(n: number, seed: number): Record<string, string | number>[] {
  const rnd = seededRandom(seed ^ 0xa11ce);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)]!;
  return clinicalRows(n, seed).map((c, i) => {
    const first = pick(FIRST), last = pick(LAST);
    const age = c.age!;
    const year = 2026 - age, month = 1 + Math.floor(rnd() * 12), day = 1 + Math.floor(rnd() * 28);
    const digits = (k: number) => Array.from({ length: k }, () => Math.floor(rnd() * 10)).join("");
    return {
      patient_id: `MRN-${String(100000 + i)}`,
      full_name: `${first} ${last}`,
      email: `${first.toLowerCase().normalize("NFD").replace(/[^a-z]/g, "")}.${
        last.toLowerCase().replace(/[^a-z]/g, "")
      }${i}@example.org`,
      phone: `+1 (${digits(3)}) ${digits(3)}-${digits(4)}`,
      ssn: `${digits(3)}-${digits(2)}-${digits(4)}`,
      date_of_birth: `${year}-${String(month).padStart(2, "0")}-${String(day).padStart(2, "0")}`,
      zip: pick(ZIPS),
      gender: rnd() < 0.5 ? "F" : "M",
      age,
      marital_status: pick(MARITAL),
      diagnosis: c.outcome ? pick(DIAGNOSES.slice(0, 3).concat(DIAGNOSES.slice(4))) : pick(DIAGNOSES),
      bmi: c.bmi!,
      systolic_bp: c.systolic_bp!,
      cholesterol: c.cholesterol!,
      glucose: c.glucose!,
      smoker: c.smoker!,
      annual_income: Math.round(20000 + rnd() * 130000),
    };
  });
}

/** Writes {@linkcode sensitiveRows} as CSV to `path` (temp file + rename). */
export async function writeSensitiveCsv(path: string, n: number, seed: number): Promise<void> {
  const rows = sensitiveRows(n, seed);
  const cols = Object.keys(rows[0] ?? {});
  const cell = (v: string | number) =>
    typeof v === "number" ? String(v) : /[",\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v;
  const text = [cols.join(","), ...rows.map((r) => cols.map((c) => cell(r[c]!)).join(","))].join("\n") + "\n";
  await writeFileAtomic(path, text);
}
