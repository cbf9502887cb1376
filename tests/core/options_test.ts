import assert from "node:assert/strict";
import {
  commandHelp,
  type CommandSpec,
  EXIT_CODES,
  formatError,
  MercuryError,
  type OptionValues,
  parseCommandArgs,
  parseDuration,
} from "@mercury/core";

const options = {
  partitions: { type: "int", min: 1, max: 64, default: 3, description: "partitions" },
  offset: { type: "int", description: "any integer" },
  rate: { type: "number", min: 0, description: "events per second", default: "2.5" },
  every: { type: "duration", min: 100, description: "period", default: "5s" },
  columns: { type: "list", description: "columns" },
  metrics: { type: "list", choices: ["p50", "p99", "max"], description: "metrics", default: ["p50"] },
  format: { type: "enum", choices: ["csv", "json"], description: "output", default: "csv" },
  topic: { type: "string", value: "NAME", description: "topic", default: "events" },
  seeds: { type: "int", multiple: true, description: "seeds" },
  dry: { type: "boolean", description: "dry run" },
} as const;
const spec: CommandSpec = { summary: "demo", options, run: () => {} };
const parse = (...argv: string[]) =>
  parseCommandArgs(spec, argv, "mercury demo run").values as OptionValues<typeof options>;

/** The MercuryError a parse throws. */
function parseError(...argv: string[]): MercuryError {
  try {
    parse(...argv);
  } catch (err) {
    assert.ok(err instanceof MercuryError, String(err));
    return err;
  }
  assert.fail(`no error for ${argv.join(" ")}`);
}

Deno.test("typed options: defaults are parsed and typed", () => {
  const v = parse();
  assert.deepEqual({ ...v }, {
    partitions: 3,
    rate: 2.5,
    every: 5000,
    metrics: ["p50"],
    format: "csv",
    topic: "events",
  });
  assert.equal(v.offset, undefined);
  assert.equal(v.columns, undefined);
});

Deno.test("typed options: int", () => {
  assert.equal(parse("--partitions", "12").partitions, 12);
  assert.equal(parse("--offset", "-7").offset, -7);
  assert.equal(parse("--offset=+4").offset, 4);
  for (const bad of ["x", "1.5", "1e3", "", "0x10", "12abc"]) {
    assert.equal(parseError("--offset", bad).message, `--offset must be an integer, got '${bad}'`);
  }
});

Deno.test("typed options: int ranges", () => {
  assert.equal(parse("--partitions", "1").partitions, 1);
  assert.equal(parse("--partitions", "64").partitions, 64);
  assert.equal(parseError("--partitions", "0").message, "--partitions must be an integer from 1 to 64, got '0'");
  assert.equal(parseError("--partitions", "65").message, "--partitions must be an integer from 1 to 64, got '65'");
});

Deno.test("typed options: number", () => {
  assert.equal(parse("--rate", "0.25").rate, 0.25);
  assert.equal(parse("--rate", "1e3").rate, 1000);
  assert.equal(parse("--rate", ".5").rate, 0.5);
  assert.equal(parseError("--rate", "-1").message, "--rate must be a number ≥ 0, got '-1'");
  assert.equal(parseError("--rate", "fast").message, "--rate must be a number ≥ 0, got 'fast'");
  assert.equal(parseError("--rate", "Infinity").message, "--rate must be a number ≥ 0, got 'Infinity'");
});

Deno.test("typed options: duration in milliseconds", () => {
  assert.equal(parse("--every", "250ms").every, 250);
  assert.equal(parse("--every", "2m").every, 120_000);
  assert.equal(parse("--every", "1h30m").every, 5_400_000);
  assert.equal(parse("--every", "1500").every, 1500);
  assert.equal(
    parseError("--every", "50ms").message,
    "--every must be a duration ≥ 100ms (e.g. 500ms, 10s, 5m, 1h), got '50ms'",
  );
  assert.match(parseError("--every", "soon").message, /^--every must be a duration .*, got 'soon'$/);
  assert.equal(parseDuration("1d"), 86_400_000);
  assert.equal(parseDuration("5 minutes"), undefined);
});

Deno.test("typed options: list, comma-separated and repeated", () => {
  assert.deepEqual(parse("--columns", "a,b , c").columns, ["a", "b", "c"]);
  assert.deepEqual(parse("--metrics", "p99,max").metrics, ["p99", "max"]);
  assert.equal(
    parseError("--metrics", "p99,p42").message,
    "--metrics must be a comma-separated list of p50, p99, max, got 'p99,p42'",
  );
});

Deno.test("typed options: enum choices", () => {
  assert.equal(parse("--format", "json").format, "json");
  assert.equal(parseError("--format", "xml").message, "--format must be one of csv, json, got 'xml'");
});

Deno.test("typed options: multiple values each parsed", () => {
  assert.deepEqual(parse("--seeds", "1", "--seeds", "2").seeds, [1, 2]);
  assert.equal(parseError("--seeds", "1", "--seeds", "two").message, "--seeds must be an integer, got 'two'");
});

Deno.test("typed options: string and boolean options keep working as before", () => {
  const v = parse("--topic", "orders", "--dry");
  assert.equal(v.topic, "orders");
  assert.equal(v.dry, true);
  assert.equal(parse("--topic", "42").topic, "42"); // a string stays a string
});

Deno.test("typed options: a bad default is the same error (a plugin bug shows at once)", () => {
  const bad: CommandSpec = {
    summary: "x",
    options: { n: { type: "int", min: 1, default: "zero", description: "n" } },
    run: () => {},
  };
  assert.throws(() => parseCommandArgs(bad, [], "x"), { message: "--n must be an integer ≥ 1, got 'zero'" });
});

Deno.test("typed options: the error is a one-line usage error, exit 64, pointing at --help", () => {
  const err = parseError("--partitions", "x");
  assert.equal(err.code, "usage");
  assert.equal(EXIT_CODES.usage, 64);
  const { text, exitCode } = formatError(err, false);
  assert.equal(exitCode, 64);
  assert.equal(text.split("\n").length, 1);
  assert.match(text, /--partitions must be an integer from 1 to 64, got 'x'/);
  assert.match(text, /mercury demo run --help/);
});

Deno.test("typed options: help shows the placeholder, the type, range or choices and the default", () => {
  const help = commandHelp(spec, "mercury demo run");
  const line = (opt: string) => help.split("\n").find((l) => l.includes(`--${opt} `) || l.endsWith(`--${opt}`))!;
  assert.match(line("partitions"), /--partitions N\s+partitions \(integer from 1 to 64; default: 3\)$/);
  assert.match(line("rate"), /--rate X\s+events per second \(number ≥ 0; default: 2\.5\)$/);
  assert.match(line("every"), /--every DUR\s+period \(duration ≥ 100ms \(e\.g\. 500ms, 10s, 5m, 1h\); default: 5s\)$/);
  assert.match(line("metrics"), /--metrics A,B\s+metrics \(comma-separated list of p50, p99, max; default: p50\)$/);
  assert.match(line("format"), /--format csv\|json\s+output \(one of csv, json; default: csv\)$/);
  assert.match(line("topic"), /--topic NAME\s+topic \(default: events\)$/);
  assert.match(line("seeds"), /--seeds N\s+seeds \(integer; repeatable\)$/);
  assert.match(line("dry"), /--dry\s+dry run$/);
});
