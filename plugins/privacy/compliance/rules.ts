/**
 * What column analysis looks for: HIPAA Safe Harbor's 18 identifiers
 * (45 CFR §164.514(b)(2)(i)(A)–(R)), GDPR's personal data (Art. 4(1)), its
 * special categories (Art. 9(1)), criminal data (Art. 10) and national
 * identification numbers (Art. 87), and the usual quasi-identifiers
 * (Sweeney 2000: ZIP, birth date and sex identify 87% of Americans).
 * A rule matches a column by its name or, for identifier formats, by most of
 * its sampled values.
 *
 * @module
 */

/** How a column matters: it names a person, narrows one down, or is itself sensitive. */
export type ColumnRole = "direct identifier" | "quasi-identifier" | "sensitive attribute";

/** One thing column analysis can find. */
export interface IdentifierRule {
  id: string;
  label: string;
  role: ColumnRole;
  /** Safe Harbor item, e.g. `§164.514(b)(2)(i)(F)`, when it is one of the 18. */
  hipaa?: string;
  gdpr: string;
  name: RegExp;
  /** A value format (most sampled values must match). */
  value?: RegExp;
  /** How Safe Harbor generalises it: a DuckDB expression over the quoted column (k-anonymity after generalisation). */
  generalise?: (column: string) => string;
}

const SH = (item: string) => `45 CFR §164.514(b)(2)(i)(${item})`;

/** The rules, most specific first. */
export const RULES: readonly IdentifierRule[] = [
  {
    id: "ssn",
    label: "Social Security number",
    role: "direct identifier",
    hipaa: SH("G"),
    gdpr: "GDPR Art. 87 (national identification number), Art. 4(1)",
    name: /(^|_)(ssn|social_?security|national_?id|nin)($|_)/i,
    value: /^\d{3}-\d{2}-\d{4}$/,
  },
  {
    id: "email",
    label: "email address",
    role: "direct identifier",
    hipaa: SH("F"),
    gdpr: "GDPR Art. 4(1) (online identifier)",
    name: /e-?mail/i,
    value: /^[^@\s]+@[^@\s]+\.[a-z]{2,}$/i,
  },
  {
    id: "phone",
    label: "telephone number",
    role: "direct identifier",
    hipaa: SH("D"),
    gdpr: "GDPR Art. 4(1)",
    name: /(phone|mobile|tel($|_))/i,
    value: /^\+?(?=(?:\D*\d){7,})[\d\s().-]+$/,
  },
  { id: "fax", label: "fax number", role: "direct identifier", hipaa: SH("E"), gdpr: "GDPR Art. 4(1)", name: /fax/i },
  {
    id: "mrn",
    label: "medical record number",
    role: "direct identifier",
    hipaa: SH("H"),
    gdpr: "GDPR Art. 4(1), Art. 9(1) (health)",
    name: /(^|_)(mrn|medical_?record|patient_?id)($|_)/i,
  },
  {
    id: "health_plan",
    label: "health plan beneficiary number",
    role: "direct identifier",
    hipaa: SH("I"),
    gdpr: "GDPR Art. 4(1)",
    name: /(health_?plan|insurance_?(id|number)|member_?id|beneficiary)/i,
  },
  {
    id: "account",
    label: "account number",
    role: "direct identifier",
    hipaa: SH("J"),
    gdpr: "GDPR Art. 4(1)",
    name: /(account|iban|card)_?(no|num|number|id)?$/i,
  },
  {
    id: "license",
    label: "certificate or licence number",
    role: "direct identifier",
    hipaa: SH("K"),
    gdpr: "GDPR Art. 4(1)",
    name: /(licen[cs]e|certificate|passport)/i,
  },
  {
    id: "vehicle",
    label: "vehicle identifier or plate",
    role: "direct identifier",
    hipaa: SH("L"),
    gdpr: "GDPR Art. 4(1)",
    name: /(vin|plate|vehicle)/i,
  },
  {
    id: "device",
    label: "device identifier or serial number",
    role: "direct identifier",
    hipaa: SH("M"),
    gdpr: "GDPR Art. 4(1) (online identifier)",
    name: /(device|serial|imei|mac_?addr)/i,
  },
  {
    id: "url",
    label: "web URL",
    role: "direct identifier",
    hipaa: SH("N"),
    gdpr: "GDPR Art. 4(1) (online identifier)",
    name: /(url|website|homepage)/i,
    value: /^https?:\/\//i,
  },
  {
    id: "ip",
    label: "IP address",
    role: "direct identifier",
    hipaa: SH("O"),
    gdpr: "GDPR Art. 4(1), Recital 30 (online identifier)",
    name: /(^|_)ip(_?addr(ess)?)?($|_)/i,
    value: /^(\d{1,3}\.){3}\d{1,3}$/,
  },
  {
    id: "biometric",
    label: "biometric identifier",
    role: "direct identifier",
    hipaa: SH("P"),
    gdpr: "GDPR Art. 9(1) (biometric data)",
    name: /(fingerprint|retina|voice_?print|biometric)/i,
  },
  {
    id: "photo",
    label: "full-face photograph",
    role: "direct identifier",
    hipaa: SH("Q"),
    gdpr: "GDPR Art. 9(1) (biometric data), Art. 4(14)",
    name: /(photo|image|portrait|face)/i,
  },
  {
    id: "name",
    label: "name",
    role: "direct identifier",
    hipaa: SH("A"),
    gdpr: "GDPR Art. 4(1)",
    name: /(^|_)((full|first|last|given|family|sur)_?)?name$/i,
  },
  {
    id: "address",
    label: "street address",
    role: "direct identifier",
    hipaa: SH("B"),
    gdpr: "GDPR Art. 4(1) (location data)",
    name: /(address|street)/i,
  },
  {
    id: "zip",
    label: "ZIP / postal code",
    role: "quasi-identifier",
    hipaa: SH("B"),
    gdpr: "GDPR Art. 4(1) (location data), Recital 26",
    name: /(zip|postal|postcode)/i,
    value: /^\d{5}(-\d{4})?$/,
    generalise: (c) => `left(CAST(${c} AS VARCHAR), 3)`,
  },
  {
    id: "city",
    label: "city or county",
    role: "quasi-identifier",
    hipaa: SH("B"),
    gdpr: "GDPR Art. 4(1) (location data), Recital 26",
    name: /(^|_)(city|town|county)($|_)/i,
    generalise: () => "'*'",
  },
  {
    id: "birth_date",
    label: "date of birth",
    role: "quasi-identifier",
    hipaa: SH("C"),
    gdpr: "GDPR Art. 4(1), Recital 26",
    name: /(dob|birth)/i,
    generalise: (c) => `year(TRY_CAST(${c} AS DATE))`,
  },
  {
    id: "date",
    label: "date related to the individual (admission, discharge, death)",
    role: "quasi-identifier",
    hipaa: SH("C"),
    gdpr: "GDPR Art. 4(1), Recital 26",
    name: /(admi(t|ssion)|discharge|death|visit)_?date|date_?of/i,
    value: /^\d{4}-\d{2}-\d{2}/,
    generalise: (c) => `year(TRY_CAST(${c} AS DATE))`,
  },
  {
    id: "age",
    label: "age (over 89 must be aggregated)",
    role: "quasi-identifier",
    hipaa: SH("C"),
    gdpr: "GDPR Art. 4(1), Recital 26",
    name: /(^|_)age($|_)/i,
    generalise: (c) => `least(floor(${c} / 10) * 10, 90)`,
  },
  {
    id: "sex",
    label: "sex or gender",
    role: "quasi-identifier",
    gdpr: "GDPR Art. 4(1), Recital 26",
    name: /(^|_)(sex|gender)($|_)/i,
  },
  {
    id: "marital",
    label: "marital status",
    role: "quasi-identifier",
    gdpr: "GDPR Art. 4(1), Recital 26",
    name: /marital/i,
  },
  {
    id: "occupation",
    label: "occupation or employer",
    role: "quasi-identifier",
    gdpr: "GDPR Art. 4(1), Recital 26",
    name: /(occupation|job|employer|profession)/i,
  },
  {
    id: "race",
    label: "racial or ethnic origin",
    role: "sensitive attribute",
    gdpr: "GDPR Art. 9(1) (racial or ethnic origin)",
    name: /(race|ethnic)/i,
  },
  {
    id: "health",
    label: "health data (diagnosis, condition, treatment)",
    role: "sensitive attribute",
    hipaa: "45 CFR §160.103 (protected health information)",
    gdpr: "GDPR Art. 9(1) (data concerning health)",
    name: /(diagnos|condition|disease|icd|treatment|medication|outcome|hiv|pregnan)/i,
  },
  {
    id: "genetic",
    label: "genetic data",
    role: "sensitive attribute",
    gdpr: "GDPR Art. 9(1) (genetic data)",
    name: /(genetic|genome|dna|snp)/i,
  },
  {
    id: "religion",
    label: "religious or philosophical belief",
    role: "sensitive attribute",
    gdpr: "GDPR Art. 9(1) (religious beliefs)",
    name: /(religio|faith|belief)/i,
  },
  {
    id: "politics",
    label: "political opinion",
    role: "sensitive attribute",
    gdpr: "GDPR Art. 9(1) (political opinions)",
    name: /(politic|party_?member)/i,
  },
  {
    id: "union",
    label: "trade union membership",
    role: "sensitive attribute",
    gdpr: "GDPR Art. 9(1) (trade union membership)",
    name: /union/i,
  },
  {
    id: "sexuality",
    label: "sex life or sexual orientation",
    role: "sensitive attribute",
    gdpr: "GDPR Art. 9(1) (sex life or sexual orientation)",
    name: /(orientation|sexual)/i,
  },
  {
    id: "criminal",
    label: "criminal convictions or offences",
    role: "sensitive attribute",
    gdpr: "GDPR Art. 10",
    name: /(criminal|conviction|offen[cs]e|arrest)/i,
  },
  {
    id: "income",
    label: "financial situation (income, salary, balance)",
    role: "sensitive attribute",
    gdpr: "GDPR Art. 4(1) (economic identity), Recital 75",
    name: /(income|salary|wage|balance|credit_?score)/i,
  },
];

/** The rule matching a column, by name first, then by most (≥ 80%) of its sampled values. */
export function matchRule(
  name: string,
  samples: readonly string[],
): { rule: IdentifierRule; by: "name" | "values" } | undefined {
  for (const rule of RULES) if (rule.name.test(name)) return { rule, by: "name" };
  if (samples.length === 0) return undefined;
  for (const rule of RULES) {
    if (!rule.value) continue;
    const hits = samples.filter((s) => rule.value!.test(s.trim())).length;
    if (hits / samples.length >= 0.8) return { rule, by: "values" };
  }
  return undefined;
}
