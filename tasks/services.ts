/**
 * `deno task services up|down|status|logs [name…]` — Mercury's real services.
 *
 * @module
 */
import { commandHelp, main, MercuryError, parseCommandArgs, projectRoot } from "@mercury/core";
import type { CommandSpec } from "@mercury/core";
import { Launcher, plainUpServices, statusTable } from "./services/launcher.ts";
import { extraDown, extraFor, extraStatus, extraUp, isExtraKafka } from "./services/kafka_extras.ts";

const PROG = "deno task services";

const common = {
  timeout: { type: "int", min: 1, value: "SEC", description: "seconds to wait for a service to answer", default: 90 },
} as const;

const commands: Record<string, CommandSpec> = {
  up: {
    summary: "start services (all by default) and wait until each answers a real request",
    usage: "[kafka|postgres|redis|mlflow|prometheus|spark|hdfs|s3|kafka-cluster|kafka-secure…]",
    options: {
      ...common,
      brokers: {
        type: "int",
        min: 1,
        value: "N",
        description: "with kafka: 3 starts the three-broker cluster (kafka-cluster) beside the default broker",
      },
    },
    async run(args) {
      const l = launcher(args.values.timeout);
      // kafka-cluster (or kafka --brokers 3) and kafka-secure run beside the default broker.
      const extras = args.positionals.map((n) => extraFor(n, args.values.brokers as number | undefined));
      const plain = args.positionals.filter((_, i) => extras[i] === undefined);
      for (const extra of extras) {
        if (extra) { for (const line of await extraUp(l.root, extra, l.timeoutSec)) console.log(line); }
      }
      if (args.positionals.length && !plain.length) return;
      // A plain `up` starts the core services and those the plugins' manifests declare.
      const names = plain.length ? l.select(plain) : await plainUpServices(l.root);
      const rows = await l.up(names);
      console.log(statusTable(rows));
    },
  },
  down: {
    summary: "stop the services this project started (others are left alone)",
    usage: "[kafka|postgres|redis|mlflow|prometheus…]",
    options: { ...common, purge: { type: "boolean", description: "also delete their data under .mercury/" } },
    async run(args) {
      const l = launcher(args.values.timeout);
      const purge = args.values.purge === true;
      for (const extra of args.positionals.filter(isExtraKafka)) {
        for (const line of await extraDown(l.root, extra, purge)) console.log(line);
      }
      const plain = args.positionals.filter((n) => !isExtraKafka(n));
      if (args.positionals.length && !plain.length) return;
      for (const line of await l.down(l.select(plain), purge)) console.log(line);
    },
  },
  status: {
    summary: "print service, mode, endpoint, pid, health (exit 69 when one is down)",
    usage: "[kafka|postgres|redis|mlflow|prometheus…]",
    options: { json: { type: "boolean", description: "print JSON" } },
    async run(args) {
      const l = launcher(undefined);
      const extras = await Promise.all(args.positionals.filter(isExtraKafka).map((n) => extraStatus(l.root, n)));
      for (const e of extras) console.log(e.line);
      const plain = args.positionals.filter((n) => !isExtraKafka(n));
      if (args.positionals.length && !plain.length) return extras.every((e) => e.ok) ? 0 : 69;
      const rows = await l.status(plain.length ? l.select(plain) : await plainUpServices(l.root));
      console.log(args.values.json ? JSON.stringify(rows, null, 2) : statusTable(rows));
      return rows.every((r) => r.health.ok) ? 0 : 69;
    },
  },
  logs: {
    summary: "print the end of each service's log",
    usage: "[kafka|postgres|redis|mlflow|prometheus…]",
    options: { lines: { type: "int", min: 1, short: "n", description: "lines per service", default: 40 } },
    run(args) {
      const lines = args.values.lines as number;
      const l = launcher(undefined);
      console.log(l.logs(l.select(args.positionals), lines));
    },
  },
};

/** The launcher; `timeout` is the typed `--timeout` (whole seconds ≥ 1), absent for commands without it. */
function launcher(timeout: unknown): Launcher {
  return new Launcher({ root: projectRoot(), timeoutSec: timeout as number | undefined });
}

function help(): string {
  const w = Math.max(...Object.keys(commands).map((c) => c.length));
  return [
    `${PROG} <command> [kafka|postgres|redis|mlflow|prometheus…] [options]`,
    "",
    "Runs Kafka (KRaft), PostgreSQL and Redis (and MLflow, Prometheus and Spark when a plugin declares them,",
    "or when named): with Docker Compose where a Docker engine",
    "runs, otherwise natively under .mercury/ on loopback. Endpoints go to .mercury/services.json.",
    "Only when named: hdfs (a NameNode and a DataNode) and s3 (an S3-compatible store, bucket lake) for the lake.",
    "",
    "Commands:",
    ...Object.entries(commands).map(([n, c]) => `  ${n.padEnd(w)}  ${c.summary}`),
    "",
    "Environment: MERCURY_KAFKA_BROKERS, MERCURY_PG_URL, MERCURY_REDIS_URL, MERCURY_MLFLOW_URL,",
    "MERCURY_PROMETHEUS_URL, MERCURY_SPARK_REMOTE, MERCURY_HDFS_URL, MERCURY_S3_URL (use that server as is;",
    "MERCURY_S3_ACCESS_KEY and MERCURY_S3_SECRET_KEY its keys),",
    "MERCURY_SERVICES_MODE=native|compose|auto.",
  ].join("\n");
}

if (import.meta.main) {
  await main(async (argv) => {
    const args = argv.filter((a) => a !== "--verbose");
    const [cmd, ...rest] = args;
    if (cmd === undefined || cmd === "-h" || cmd === "--help" || cmd === "help") {
      console.log(help());
      return 0;
    }
    const spec = commands[cmd];
    if (!spec) {
      throw new MercuryError("usage", `unknown command "${cmd}"`, {
        where: PROG,
        hint: `commands: ${Object.keys(commands).join(", ")}`,
      });
    }
    if (rest.includes("-h") || rest.includes("--help")) {
      console.log(commandHelp(spec, `${PROG} ${cmd}`));
      return 0;
    }
    const code = await spec.run(parseCommandArgs(spec, rest, `${PROG} ${cmd}`), {
      root: projectRoot(),
      verbose: argv.includes("--verbose"),
      endpoints: () => {
        throw new Error("unused");
      },
      print: console.log,
    });
    return typeof code === "number" ? code : 0;
  });
}
