/**
 * Service endpoints, resolved in one order everywhere:
 * environment variables > `.mercury/services.json` (written by
 * `deno task services up`) > defaults (the ports the native launcher uses).
 *
 * @module
 */
import { MercuryError } from "./errors.ts";

/** The real services Mercury's plugins talk to. */
/** `mlflow` and `prometheus` are the observe plugin's (started by a plain `services up` when a plugin declares them). */
/** `spark` is the spark plugin's (a standalone cluster with a Spark Connect server). */
/** `hdfs` is a distributed store for the lake (Hadoop's MiniDFSCluster), started only when named. */
/** `s3` is an S3-compatible object store for the lake (S3Proxy on local disk), started only when named. */
export type ServiceName = "kafka" | "postgres" | "redis" | "mlflow" | "prometheus" | "spark" | "hdfs" | "s3";

/** Every service name, in start order. */
export const SERVICE_NAMES: readonly ServiceName[] = [
  "postgres",
  "redis",
  "kafka",
  "mlflow",
  "prometheus",
  "spark",
  "hdfs",
  "s3",
];

/** The services a plain `services up` always starts; the others only when a plugin's manifest declares them. */
export const CORE_SERVICE_NAMES: readonly ServiceName[] = ["postgres", "redis", "kafka"];

/**
 * Added to every port of the native launcher: `MERCURY_PORT_OFFSET` (an
 * integer 0–5000, default 0). Two checkouts on one machine — a working copy
 * and a fresh clone under CI — each run their own services side by side when
 * one sets, say, `MERCURY_PORT_OFFSET=1000`. A malformed value is refused
 * with a {@linkcode MercuryError} naming the variable.
 *
 * @example
 * ```ts
 * import { portOffset } from "@mercury/core";
 * import assert from "node:assert/strict";
 *
 * assert.equal(portOffset(() => "1000"), 1000);
 * assert.equal(portOffset(() => undefined), 0);
 * assert.throws(() => portOffset(() => "-3"), /MERCURY_PORT_OFFSET/);
 * ```
 */
export function portOffset(env: (name: string) => string | undefined = readEnv): number {
  const raw = env("MERCURY_PORT_OFFSET")?.trim();
  if (raw === undefined || raw === "") return 0;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 5000) {
    throw new MercuryError("config", `MERCURY_PORT_OFFSET must be an integer from 0 to 5000, got "${raw}"`, {
      where: "MERCURY_PORT_OFFSET",
      hint: "e.g. MERCURY_PORT_OFFSET=1000 moves PostgreSQL to 56432, Kafka to 60092",
    });
  }
  return n;
}

/** `Deno.env.get`, or nothing where environment access is not granted. */
function readEnv(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

const OFFSET = portOffset();

/**
 * Loopback ports of the native launcher. They differ from the usual 5432, 6379
 * and 9092 so a server already running on the machine is left alone; all move
 * by {@linkcode portOffset}.
 */
export const DEFAULT_PORTS = {
  postgres: 55432 + OFFSET,
  redis: 56379 + OFFSET,
  kafka: 59092 + OFFSET,
  kafkaController: 59093 + OFFSET,
  /** The three-broker cluster (`services up kafka --brokers 3`): brokers, then their controllers. */
  kafkaCluster: [59192 + OFFSET, 59193 + OFFSET, 59194 + OFFSET],
  kafkaClusterController: [59195 + OFFSET, 59196 + OFFSET, 59197 + OFFSET],
  /** The TLS/SASL broker (`services up kafka-secure`): SSL, SASL_SSL, SASL_PLAINTEXT, internal plaintext, controller. */
  kafkaSecure: [59292 + OFFSET, 59293 + OFFSET, 59294 + OFFSET, 59295 + OFFSET, 59296 + OFFSET],
  mlflow: 55000 + OFFSET,
  prometheus: 59090 + OFFSET,
  spark: 55002 + OFFSET,
  sparkDriverUi: 54040 + OFFSET,
  sparkMaster: 57077 + OFFSET,
  sparkMasterUi: 58080 + OFFSET,
  sparkWorkerUi: [58081 + OFFSET, 58082 + OFFSET],
  /** The OpenLineage collector (`spark lineage`) the Connect server's listener posts to. */
  sparkLineage: 55003 + OFFSET,
  /** HDFS (`services up hdfs`): the NameNode's RPC port, then its web UI / JMX. */
  hdfs: 59820 + OFFSET,
  hdfsHttp: 59870 + OFFSET,
  /** The S3-compatible store (`services up s3`): its HTTP endpoint. */
  s3: 59900 + OFFSET,
} as const;

/**
 * The access key pair of the native S3 store (a local development store: fixed, like PostgreSQL's trust auth);
 * `MERCURY_S3_ACCESS_KEY` and `MERCURY_S3_SECRET_KEY` name another store's.
 */
export const S3_DEV_CREDENTIALS = { accessKey: "mercury", secretKey: "mercury-secret" } as const;

/** Environment variables that name an endpoint; a set one wins over everything. */
export const ENV_VARS: Readonly<Record<ServiceName, string>> = {
  kafka: "MERCURY_KAFKA_BROKERS",
  postgres: "MERCURY_PG_URL",
  redis: "MERCURY_REDIS_URL",
  mlflow: "MERCURY_MLFLOW_URL",
  prometheus: "MERCURY_PROMETHEUS_URL",
  spark: "MERCURY_SPARK_REMOTE",
  hdfs: "MERCURY_HDFS_URL",
  s3: "MERCURY_S3_URL",
};

/** Where an endpoint came from. */
export type EndpointSource = "env" | "file" | "default";

/** Resolved endpoints of all services. */
export interface Endpoints {
  /** `security`: TLS and SASL settings of every Kafka client, when the brokers ask for them. */
  kafka: { brokers: string[]; source: EndpointSource; security?: KafkaSecurity };
  postgres: { url: string; source: EndpointSource };
  redis: { url: string; source: EndpointSource };
  mlflow: { url: string; source: EndpointSource };
  prometheus: { url: string; source: EndpointSource };
  spark: { remote: string; source: EndpointSource };
  /** `hdfs://host:port` of the NameNode. */
  hdfs: { url: string; source: EndpointSource };
  /** `http(s)://host:port` of an S3-compatible store (path-style buckets) and its access key pair. */
  s3: { url: string; accessKey: string; secretKey: string; source: EndpointSource };
}

/** The shape of `.mercury/services.json`. */
export interface ServicesFile {
  kafka?: { brokers: string[]; mode?: string; security?: KafkaSecurity };
  postgres?: { url: string; mode?: string; timescaledb?: boolean };
  redis?: { url: string; mode?: string };
  mlflow?: { url: string; mode?: string };
  prometheus?: { url: string; mode?: string };
  /** Spark Connect (`sc://host:port`), the master, the web UIs and the driver's REST API. */
  spark?: {
    remote: string;
    mode?: string;
    master?: string;
    masterUi?: string;
    ui?: string;
    rest?: string;
    eventLogDir?: string;
  };
  hdfs?: { url: string; mode?: string };
  s3?: { url: string; mode?: string };
}

/** Inputs of {@linkcode resolveEndpoints}; all optional so tests can hand in fakes. */
export interface ResolveOptions {
  /** Reads an environment variable (default `Deno.env.get`). */
  env?: (name: string) => string | undefined;
  /** Path of the services file (default `<project>/.mercury/services.json`). */
  servicesFile?: string;
}

/** Default endpoints of the native launcher. */
export function defaultEndpoints(): {
  kafka: string[];
  postgres: string;
  redis: string;
  mlflow: string;
  prometheus: string;
  spark: string;
  hdfs: string;
  s3: string;
} {
  return {
    kafka: [`127.0.0.1:${DEFAULT_PORTS.kafka}`],
    postgres: `postgres://mercury@127.0.0.1:${DEFAULT_PORTS.postgres}/mercury`,
    redis: `redis://127.0.0.1:${DEFAULT_PORTS.redis}`,
    mlflow: `http://127.0.0.1:${DEFAULT_PORTS.mlflow}`,
    prometheus: `http://127.0.0.1:${DEFAULT_PORTS.prometheus}`,
    spark: `sc://127.0.0.1:${DEFAULT_PORTS.spark}`,
    hdfs: `hdfs://127.0.0.1:${DEFAULT_PORTS.hdfs}`,
    s3: `http://127.0.0.1:${DEFAULT_PORTS.s3}`,
  };
}

/**
 * Resolves the endpoint of every service: environment > services file > default.
 * Malformed values are refused with a {@linkcode MercuryError} naming the variable
 * or file.
 *
 * @example Environment beats the default
 * ```ts
 * import { resolveEndpoints } from "@mercury/core";
 * import assert from "node:assert/strict";
 *
 * const env = new Map([["MERCURY_REDIS_URL", "redis://10.0.0.5:6379"]]);
 * const eps = resolveEndpoints({ env: (k) => env.get(k), servicesFile: "/nonexistent.json" });
 * assert.equal(eps.redis.url, "redis://10.0.0.5:6379");
 * assert.equal(eps.redis.source, "env");
 * assert.equal(eps.postgres.source, "default");
 * ```
 */
export function resolveEndpoints(options: ResolveOptions = {}): Endpoints {
  const env = options.env ?? ((name: string) => Deno.env.get(name));
  const path = options.servicesFile ?? servicesFilePath();
  const file = readServicesFile(path);
  const defaults = defaultEndpoints();

  const kafkaEnv = nonEmpty(env(ENV_VARS.kafka));
  const kafka = kafkaEnv !== undefined
    ? { brokers: parseBrokers(kafkaEnv, ENV_VARS.kafka), source: "env" as const }
    : file.kafka
    ? { brokers: file.kafka.brokers.map((b) => checkBroker(b, path)), source: "file" as const }
    : { brokers: defaults.kafka, source: "default" as const };

  const pgEnv = nonEmpty(env(ENV_VARS.postgres));
  const postgres = pgEnv !== undefined
    ? { url: checkUrl(pgEnv, ["postgres:", "postgresql:"], ENV_VARS.postgres), source: "env" as const }
    : file.postgres
    ? { url: checkUrl(file.postgres.url, ["postgres:", "postgresql:"], path), source: "file" as const }
    : { url: defaults.postgres, source: "default" as const };

  const redisEnv = nonEmpty(env(ENV_VARS.redis));
  const redis = redisEnv !== undefined
    ? { url: checkUrl(redisEnv, ["redis:", "rediss:"], ENV_VARS.redis), source: "env" as const }
    : file.redis
    ? { url: checkUrl(file.redis.url, ["redis:", "rediss:"], path), source: "file" as const }
    : { url: defaults.redis, source: "default" as const };

  const http = (name: "mlflow" | "prometheus") => {
    const fromEnv = nonEmpty(env(ENV_VARS[name]));
    const fromFile = file[name];
    return fromEnv !== undefined
      ? { url: checkUrl(fromEnv, ["http:", "https:"], ENV_VARS[name]), source: "env" as const }
      : fromFile
      ? { url: checkUrl(fromFile.url, ["http:", "https:"], path), source: "file" as const }
      : { url: defaults[name], source: "default" as const };
  };

  const sparkEnv = nonEmpty(env(ENV_VARS.spark));
  const spark = sparkEnv !== undefined
    ? { remote: checkUrl(sparkEnv, ["sc:"], ENV_VARS.spark), source: "env" as const }
    : file.spark
    ? { remote: checkUrl(file.spark.remote, ["sc:"], path), source: "file" as const }
    : { remote: defaults.spark, source: "default" as const };

  const hdfsEnv = nonEmpty(env(ENV_VARS.hdfs));
  const hdfs = hdfsEnv !== undefined
    ? { url: checkUrl(hdfsEnv, ["hdfs:"], ENV_VARS.hdfs), source: "env" as const }
    : file.hdfs
    ? { url: checkUrl(file.hdfs.url, ["hdfs:"], path), source: "file" as const }
    : { url: defaults.hdfs, source: "default" as const };

  const s3Env = nonEmpty(env(ENV_VARS.s3));
  const s3 = {
    ...(s3Env !== undefined
      ? { url: checkUrl(s3Env, ["http:", "https:"], ENV_VARS.s3), source: "env" as const }
      : file.s3
      ? { url: checkUrl(file.s3.url, ["http:", "https:"], path), source: "file" as const }
      : { url: defaults.s3, source: "default" as const }),
    accessKey: nonEmpty(env("MERCURY_S3_ACCESS_KEY")) ?? S3_DEV_CREDENTIALS.accessKey,
    secretKey: nonEmpty(env("MERCURY_S3_SECRET_KEY")) ?? S3_DEV_CREDENTIALS.secretKey,
  };

  const security = kafkaSecurityFromEnv(env) ??
    (kafka.source === "file" && file.kafka?.security ? checkKafkaSecurity(file.kafka.security, path) : undefined);
  return {
    kafka: security ? { ...kafka, security } : kafka,
    postgres,
    redis,
    mlflow: http("mlflow"),
    prometheus: http("prometheus"),
    spark,
    hdfs,
    s3,
  };
}

/**
 * How Kafka clients connect when the brokers ask for more than plaintext:
 * TLS (the server's certificate checked against `ca`, a PEM file, or the
 * system's roots; a client certificate when `cert` and `key` are given) and
 * SASL (PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512), each optional.
 */
export interface KafkaSecurity {
  tls?: {
    /** PEM file of the certificate authorities to trust (default: the system's). */
    ca?: string;
    /** PEM files of a client certificate and its private key. */
    cert?: string;
    key?: string;
  };
  sasl?: { mechanism: KafkaSaslMechanism; username: string; password: string };
}

/** The SASL mechanisms Mercury's Kafka clients speak. */
export type KafkaSaslMechanism = "PLAIN" | "SCRAM-SHA-256" | "SCRAM-SHA-512";

/** Environment variables of {@linkcode KafkaSecurity}; any one set makes the environment the source. */
export const KAFKA_SECURITY_ENV = {
  /** `1`/`true`: TLS with the system's roots (implied by any other `MERCURY_KAFKA_TLS_*`). */
  tls: "MERCURY_KAFKA_TLS",
  ca: "MERCURY_KAFKA_TLS_CA",
  cert: "MERCURY_KAFKA_TLS_CERT",
  key: "MERCURY_KAFKA_TLS_KEY",
  mechanism: "MERCURY_KAFKA_SASL_MECHANISM",
  username: "MERCURY_KAFKA_SASL_USERNAME",
  password: "MERCURY_KAFKA_SASL_PASSWORD",
} as const;

/**
 * The Kafka security settings named by the environment ({@linkcode KAFKA_SECURITY_ENV}),
 * or undefined when none is set. A wrong value is a {@linkcode MercuryError} naming the variable.
 *
 * @example
 * ```ts
 * import { kafkaSecurityFromEnv } from "@mercury/core";
 * import assert from "node:assert/strict";
 *
 * const env = new Map([["MERCURY_KAFKA_SASL_MECHANISM", "scram-sha-512"], ["MERCURY_KAFKA_SASL_USERNAME", "u"],
 *   ["MERCURY_KAFKA_SASL_PASSWORD", "p"], ["MERCURY_KAFKA_TLS", "1"]]);
 * assert.deepEqual(kafkaSecurityFromEnv((k) => env.get(k)), {
 *   tls: {},
 *   sasl: { mechanism: "SCRAM-SHA-512", username: "u", password: "p" },
 * });
 * assert.equal(kafkaSecurityFromEnv(() => undefined), undefined);
 * assert.throws(() => kafkaSecurityFromEnv((k) => (k === "MERCURY_KAFKA_SASL_MECHANISM" ? "GSSAPI" : undefined)),
 *   /MERCURY_KAFKA_SASL_MECHANISM/);
 * ```
 */
export function kafkaSecurityFromEnv(env: (name: string) => string | undefined = readEnv): KafkaSecurity | undefined {
  const v = Object.fromEntries(
    Object.entries(KAFKA_SECURITY_ENV).map(([k, name]) => [k, nonEmpty(env(name))]),
  ) as Record<keyof typeof KAFKA_SECURITY_ENV, string | undefined>;
  if (Object.values(v).every((x) => x === undefined)) return undefined;
  const security: KafkaSecurity = {};
  const tlsOn = v.tls !== undefined && !/^(0|false|no|off)$/i.test(v.tls);
  if (tlsOn || v.ca || v.cert || v.key) {
    security.tls = {};
    if (v.ca) security.tls.ca = v.ca;
    if (v.cert) security.tls.cert = v.cert;
    if (v.key) security.tls.key = v.key;
  }
  if (v.mechanism || v.username || v.password) {
    security.sasl = {
      mechanism: (v.mechanism ?? "").toUpperCase() as KafkaSaslMechanism,
      username: v.username ?? "",
      password: v.password ?? "",
    };
  }
  return checkKafkaSecurity(security, "the MERCURY_KAFKA_TLS_* / MERCURY_KAFKA_SASL_* variables", {
    ca: KAFKA_SECURITY_ENV.ca,
    cert: KAFKA_SECURITY_ENV.cert,
    key: KAFKA_SECURITY_ENV.key,
    mechanism: KAFKA_SECURITY_ENV.mechanism,
    username: KAFKA_SECURITY_ENV.username,
    password: KAFKA_SECURITY_ENV.password,
  });
}

/** Checks a {@linkcode KafkaSecurity} (mechanism, credentials, cert/key pairs, readable PEM files). */
function checkKafkaSecurity(
  security: KafkaSecurity,
  where: string,
  names: Record<"ca" | "cert" | "key" | "mechanism" | "username" | "password", string> = {
    ca: `${where} kafka.security.tls.ca`,
    cert: `${where} kafka.security.tls.cert`,
    key: `${where} kafka.security.tls.key`,
    mechanism: `${where} kafka.security.sasl.mechanism`,
    username: `${where} kafka.security.sasl.username`,
    password: `${where} kafka.security.sasl.password`,
  },
): KafkaSecurity {
  const fail = (field: keyof typeof names, message: string, hint: string): never => {
    throw new MercuryError("config", `${names[field]}: ${message}`, { where: names[field], hint });
  };
  const tls = security.tls;
  if (tls) {
    if (typeof tls !== "object") fail("ca", "tls must be an object", 'e.g. { "ca": "/path/ca.pem" }');
    if (tls.cert && !tls.key) fail("key", "a client certificate needs its key", "give the key's PEM file too");
    if (tls.key && !tls.cert) fail("cert", "a client key needs its certificate", "give the certificate's PEM file too");
    for (const field of ["ca", "cert", "key"] as const) {
      const file = tls[field];
      if (file === undefined) continue;
      try {
        if (!Deno.statSync(file).isFile) throw new Error("not a file");
      } catch (err) {
        fail(field, `cannot read "${file}": ${(err as Error).message}`, "give the path of a PEM file");
      }
    }
  }
  const sasl = security.sasl;
  if (sasl) {
    const mechanisms = ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"];
    if (!mechanisms.includes(sasl.mechanism)) {
      fail("mechanism", `"${sasl.mechanism ?? ""}" is not a SASL mechanism Mercury speaks`, mechanisms.join(", "));
    }
    if (!sasl.username) fail("username", "SASL needs a user name", "set the user the broker knows");
    if (!sasl.password) fail("password", "SASL needs a password", "set the user's password");
  }
  return security;
}

/**
 * Parses a broker list `host:port[,host:port…]`.
 *
 * @example
 * ```ts
 * import { parseBrokers } from "@mercury/core";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(parseBrokers("a:9092, b:9093"), ["a:9092", "b:9093"]);
 * assert.throws(() => parseBrokers("a:notaport"), /not a valid broker/);
 * ```
 */
export function parseBrokers(value: string, where = ENV_VARS.kafka): string[] {
  const brokers = value.split(",").map((s) => s.trim()).filter((s) => s.length > 0);
  if (brokers.length === 0) {
    throw new MercuryError("config", `${where} names no broker`, {
      where,
      hint: "give host:port[,host:port…], e.g. 127.0.0.1:59092",
    });
  }
  return brokers.map((b) => checkBroker(b, where));
}

function checkBroker(broker: string, where: string): string {
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9._-]+):(\d{1,5})$/.exec(broker);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port < 1 || port > 65535) {
    throw new MercuryError("config", `"${broker}" is not a valid broker address`, {
      where,
      hint: "a broker is host:port, e.g. 127.0.0.1:59092",
    });
  }
  return broker;
}

function checkUrl(value: string, protocols: string[], where: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new MercuryError("config", `"${redact(value)}" is not a valid URL`, {
      where,
      hint: `expected ${protocols[0]}//host:port…`,
    });
  }
  if (!protocols.includes(url.protocol) || url.hostname === "") {
    throw new MercuryError(
      "config",
      `"${redact(value)}" must be a ${protocols.map((p) => p + "//").join(" or ")} URL with a host`,
      { where, hint: `e.g. ${protocols[0]}//127.0.0.1:port` },
    );
  }
  if (url.port !== "" && (Number(url.port) < 1 || Number(url.port) > 65535)) {
    throw new MercuryError("config", `"${redact(value)}" has an invalid port`, { where });
  }
  return value;
}

/** Hides a password in a URL before it is printed. */
export function redact(value: string): string {
  return value.replace(/\/\/([^:/@]*):([^@/]*)@/, "//$1:***@");
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === "" ? undefined : v.trim();
}

/** Reads `.mercury/services.json`; a missing file is empty, a corrupt one an error. */
export function readServicesFile(path: string): ServicesFile {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return {};
    throw err;
  }
  try {
    const parsed = JSON.parse(text);
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error("not an object");
    return parsed as ServicesFile;
  } catch (err) {
    throw new MercuryError("config", `cannot parse ${path}: ${(err as Error).message}`, {
      where: path,
      hint: "delete it and run `deno task services up` to write it again",
      cause: err,
    });
  }
}

/**
 * The project root: `MERCURY_HOME`, else the nearest folder above the current one
 * whose `deno.json` declares a workspace.
 */
export function projectRoot(start = Deno.cwd()): string {
  const home = Deno.env.get("MERCURY_HOME");
  if (home) return home;
  let dir = start;
  for (;;) {
    try {
      const cfg = JSON.parse(Deno.readTextFileSync(`${dir}/deno.json`));
      if (Array.isArray(cfg.workspace)) return dir;
    } catch { /* keep walking up */ }
    const parent = dir.replace(/\/[^/]+$/, "") || "/";
    if (parent === dir) return start;
    dir = parent;
  }
}

/** `<project>/.mercury`: launcher state, data and logs. */
export function stateDir(root = projectRoot()): string {
  return `${root}/.mercury`;
}

/** `<project>/.mercury/services.json`. */
export function servicesFilePath(root = projectRoot()): string {
  return `${stateDir(root)}/services.json`;
}
