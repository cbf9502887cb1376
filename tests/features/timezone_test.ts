/**
 * The point-in-time and instant suites must not depend on the machine's time zone: they are re-run here in
 * subprocesses with non-UTC `TZ` settings (one behind UTC with daylight saving, one ahead by a half hour).
 */
import assert from "node:assert/strict";
import { ROOT } from "../_helpers.ts";

const SUITES = ["tests/features/pit_test.ts", "tests/features/instant_test.ts"];

/** Minutes JS reports as the UTC offset of March 2024 under `tz` (proves the setting reaches the child). */
async function offsetUnder(tz: string): Promise<number> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "console.log(new Date(Date.UTC(2024, 2, 1)).getTimezoneOffset())"],
    env: { TZ: tz },
    stdin: "null",
  }).output();
  return Number(new TextDecoder().decode(out.stdout).trim());
}

for (const [tz, offset] of [["America/New_York", 300], ["Asia/Kolkata", -330]] as const) {
  Deno.test(`the PIT and instant suites pass under TZ=${tz}`, async () => {
    assert.equal(await offsetUnder(tz), offset, `TZ=${tz} is not honoured by a child process`);
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["test", "-A", "--no-check", ...SUITES],
      cwd: ROOT,
      env: { TZ: tz, NO_COLOR: "1" },
      stdin: "null",
    }).output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    const failed = text.split("\n").filter((l) => /FAILED|AssertionError|error:/.test(l)).slice(0, 10).join("\n");
    assert.equal(out.code, 0, `deno test ${SUITES.join(" ")} failed under TZ=${tz}:\n${failed}`);
    const summary = /ok \| (\d+) passed \((\d+) steps\) \| 0 failed/.exec(text);
    assert.ok(summary && Number(summary[1]) >= 10, `unexpected summary under TZ=${tz}:\n${text.slice(-500)}`);
  });
}
