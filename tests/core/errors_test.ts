import assert from "node:assert/strict";
import { EXIT_CODES, formatError, MercuryError } from "@mercury/core";

Deno.test("MercuryError.format() gives what, where and hint on one line", () => {
  const err = new MercuryError("input", "Cannot parse row 12: expected 4 fields, got 3", {
    where: "data/x.csv:12",
    hint: "check the delimiter",
  });
  assert.equal(
    err.format(),
    "error[input]: Cannot parse row 12: expected 4 fields, got 3 (at data/x.csv:12); hint: check the delimiter",
  );
  assert.equal(err.format().includes("\n"), false);
  assert.equal(err.exitCode, 65);
});

Deno.test("formatError() maps codes to distinct exit codes and hides stacks unless verbose", async (t) => {
  await t.step("every code has its own non-zero exit code", () => {
    const codes = Object.values(EXIT_CODES);
    assert.equal(new Set(codes).size, codes.length);
    assert.ok(codes.every((c) => c > 0 && c < 128));
  });
  await t.step("a plain Error is internal, one line", () => {
    const { text, exitCode } = formatError(new TypeError("bad"));
    assert.equal(exitCode, 70);
    assert.equal(text.split("\n").length, 1);
    assert.match(text, /--verbose/);
  });
  await t.step("verbose adds the stack and the cause's stack", () => {
    const cause = new Error("root cause");
    const { text } = formatError(new MercuryError("unavailable", "down", { cause }), true);
    assert.match(text, /^error\[unavailable\]: down/);
    assert.match(text, /root cause/);
    assert.ok(text.split("\n").length > 2);
  });
  await t.step("a thrown string is still formatted", () => {
    assert.equal(formatError("oops").text.startsWith("error[internal]: oops"), true);
  });
});
