/** Shared ways to run `dq-validate` in the CLI tests: in-process or as a program, against a throwaway store schema. */
import { formatError } from "@mercury/core";
import { connectPostgres } from "@mercury/core/services/postgres";
import { type Ran, runScript } from "../_helpers.ts";
import { runDqValidate } from "../../plugins/quality/cli.ts";

/** The program, relative to the project root. */
export const CLI = "plugins/quality/cli.ts";

/** `check --config C --source S [--output O] …extra`. */
export function checkArgs(config: string, source: string, output?: string, ...extra: string[]): string[] {
  return ["check", "--config", config, "--source", source, ...(output ? ["--output", output] : []), ...extra];
}

/** A store schema of its own for one test (`quality_test_<random>`). */
export function testSchema(): string {
  return `quality_test_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
}

/** Drops a test's store schema. */
export async function dropSchema(schema: string): Promise<void> {
  await using pg = await connectPostgres();
  await pg.sql.unsafe(`drop schema if exists ${schema} cascade`);
}

/** Runs dq-validate in-process against `schema`; returns the exit code and the printed lines (an error as one line). */
export async function dq(schema: string, ...argv: string[]): Promise<{ code: number; out: string[] }> {
  const out: string[] = [];
  Deno.env.set("MERCURY_QUALITY_SCHEMA", schema);
  try {
    return { code: await runDqValidate(argv, (l) => out.push(l)), out };
  } catch (err) {
    const f = formatError(err);
    return { code: f.exitCode, out: [...out, f.text] };
  } finally {
    Deno.env.delete("MERCURY_QUALITY_SCHEMA");
  }
}

/** Runs dq-validate as its own process against `schema` (or `script`, e.g. tasks/mercury.ts, with `argv`). */
export function dqProcess(schema: string, argv: string[], script = CLI): Promise<Ran> {
  return runScript(script, argv, { MERCURY_QUALITY_SCHEMA: schema });
}
