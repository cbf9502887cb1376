/**
 * A Kafka broker with TLS and SASL listeners, run natively beside the default
 * broker (its own data under `.mercury/kafka-secure/`, its own ports
 * `DEFAULT_PORTS.kafkaSecure`, the same jars), for the TLS/SASL tests and for
 * trying a secured setup locally (`deno task services up kafka-secure`):
 *
 * - SSL (`ports.ssl`): TLS, a client certificate required;
 * - SASL_SSL (`ports.saslSsl`): TLS, then PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512;
 * - SASL_PLAINTEXT (`ports.sasl`): the same mechanisms without TLS;
 * - a plaintext listener for the broker itself (`ports.internal`).
 *
 * At set-up `openssl` makes a CA, a server certificate for 127.0.0.1 and
 * localhost, and a client certificate (PEM; Kafka reads PEM key and trust
 * stores, no keytool needed); the SCRAM credentials are written into the
 * storage when it is formatted (`--add-scram`). Passwords are random, kept in
 * `credentials.json` (mode 0600).
 *
 * @module
 */
import { DEFAULT_PORTS, type HealthReport, type KafkaSecurity, MercuryError } from "@mercury/core";
import { connectKafka } from "@mercury/core/services/kafka";
import { sleep } from "@mercury/core/retry";
import { alive, aptInstall, onPath, portFree, portHolder, runOk, stopPid, tail, writeAtomic } from "./_process.ts";
import { formatStorage, kafkaLibs, kafkaService, newClusterId, startBroker } from "./kafka.ts";

/** The broker's ports. */
export interface SecurePorts {
  ssl: number;
  saslSsl: number;
  sasl: number;
  internal: number;
  controller: number;
}

/** The user the broker knows, and its passwords. */
export interface SecureCredentials {
  username: string;
  /** For SCRAM-SHA-256 and SCRAM-SHA-512. */
  scramPassword: string;
  plainPassword: string;
}

const MARKER = "kafka.Kafka";

function defaultPorts(): SecurePorts {
  const [ssl, saslSsl, sasl, internal, controller] = DEFAULT_PORTS.kafkaSecure;
  return { ssl: ssl!, saslSsl: saslSsl!, sasl: sasl!, internal: internal!, controller: controller! };
}

/** The TLS/SASL broker (see the module doc). */
export class KafkaSecureBroker {
  readonly root: string;
  readonly dir: string;
  readonly ports: SecurePorts;
  #state: string;
  #log: (line: string) => void;

  constructor(options: { root: string; state: string; ports?: SecurePorts; log?: (line: string) => void }) {
    this.root = options.root;
    this.#state = options.state;
    this.dir = `${options.state}/kafka-secure`;
    this.ports = options.ports ?? defaultPorts();
    this.#log = options.log ?? ((l) => console.error(l));
  }

  /** PEM files: the CA that signed the broker's certificate, and a client certificate with its key. */
  get files(): { ca: string; clientCert: string; clientKey: string } {
    return { ca: `${this.dir}/ca.pem`, clientCert: `${this.dir}/client.pem`, clientKey: `${this.dir}/client.key` };
  }

  get log(): string {
    return `${this.dir}/kafka.log`;
  }

  /** The credentials made at set-up. */
  credentials(): SecureCredentials {
    return JSON.parse(Deno.readTextFileSync(`${this.dir}/credentials.json`));
  }

  /**
   * The security settings of a client for one listener: `ssl` (TLS + client
   * certificate), `sasl_ssl` and `sasl` with a mechanism; the broker address to use with it.
   */
  client(
    listener: "ssl" | "sasl_ssl" | "sasl",
    mechanism: "PLAIN" | "SCRAM-SHA-256" | "SCRAM-SHA-512" = "SCRAM-SHA-512",
  ): { broker: string; security: KafkaSecurity } {
    const c = this.credentials();
    const sasl = {
      mechanism,
      username: c.username,
      password: mechanism === "PLAIN" ? c.plainPassword : c.scramPassword,
    };
    const f = this.files;
    if (listener === "ssl") {
      return {
        broker: `127.0.0.1:${this.ports.ssl}`,
        security: { tls: { ca: f.ca, cert: f.clientCert, key: f.clientKey } },
      };
    }
    if (listener === "sasl_ssl") {
      return { broker: `127.0.0.1:${this.ports.saslSsl}`, security: { tls: { ca: f.ca }, sasl } };
    }
    return { broker: `127.0.0.1:${this.ports.sasl}`, security: { sasl } };
  }

  /** The environment that points Mercury's endpoint resolution at one listener (see {@linkcode KafkaSecureBroker.client}). */
  env(
    listener: "ssl" | "sasl_ssl" | "sasl",
    mechanism: "PLAIN" | "SCRAM-SHA-256" | "SCRAM-SHA-512" = "SCRAM-SHA-512",
  ): Record<string, string> {
    const { broker, security } = this.client(listener, mechanism);
    const env: Record<string, string> = { MERCURY_KAFKA_BROKERS: broker };
    if (security.tls) {
      env.MERCURY_KAFKA_TLS = "1";
      if (security.tls.ca) env.MERCURY_KAFKA_TLS_CA = security.tls.ca;
      if (security.tls.cert) env.MERCURY_KAFKA_TLS_CERT = security.tls.cert;
      if (security.tls.key) env.MERCURY_KAFKA_TLS_KEY = security.tls.key;
    }
    if (security.sasl) {
      env.MERCURY_KAFKA_SASL_MECHANISM = security.sasl.mechanism;
      env.MERCURY_KAFKA_SASL_USERNAME = security.sasl.username;
      env.MERCURY_KAFKA_SASL_PASSWORD = security.sasl.password;
    }
    return env;
  }

  /** Whether the recorded pid still exists (no marker check: a process caught in exec has an empty command line). */
  #running(): boolean {
    try {
      return alive(Number(Deno.readTextFileSync(`${this.dir}/pid`)));
    } catch {
      return false;
    }
  }

  #pid(): number | undefined {
    try {
      const pid = Number(Deno.readTextFileSync(`${this.dir}/pid`));
      return alive(pid, MARKER) ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  /** Makes certificates and credentials (once), formats the storage (once), starts the broker and waits for it. */
  async up(timeoutSec = 120): Promise<HealthReport> {
    if (this.#pid() !== undefined) return await this.waitHealthy(timeoutSec);
    const t0 = performance.now();
    await kafkaService(this.root, this.#state).install();
    if (!(await onPath("openssl"))) await aptInstall(["openssl"], "openssl to make the test broker's certificates");
    await Deno.mkdir(this.dir, { recursive: true });
    for (const port of Object.values(this.ports)) {
      // A port that only has connections in TIME-WAIT (a broker just stopped) binds fine: only a listener is a conflict.
      const holder = portFree(port) ? undefined : await portHolder(port);
      if (holder !== undefined) {
        throw new MercuryError(
          "conflict",
          `port ${port} for kafka-secure is already taken by ${holder}`,
          {
            where: `127.0.0.1:${port}`,
            hint: "stop what holds it, or move every port with MERCURY_PORT_OFFSET",
          },
        );
      }
    }
    await this.#certificates();
    const credentials = await this.#credentials();
    const props = `${this.dir}/server.properties`;
    const template = await Deno.readTextFile(`${this.root}/services/kafka/secure.properties`);
    await writeAtomic(
      props,
      template
        .replaceAll("${SSL_PORT}", String(this.ports.ssl))
        .replaceAll("${SASL_SSL_PORT}", String(this.ports.saslSsl))
        .replaceAll("${SASL_PORT}", String(this.ports.sasl))
        .replaceAll("${INTERNAL_PORT}", String(this.ports.internal))
        .replaceAll("${CONTROLLER_PORT}", String(this.ports.controller))
        .replaceAll("${LOG_DIRS}", `${this.dir}/data`)
        .replaceAll("${DIR}", this.dir)
        .replaceAll("${USER}", credentials.username)
        .replaceAll("${PLAIN_PASSWORD}", credentials.plainPassword),
    );
    const scram = (m: string) => `${m}=[name=${credentials.username},password=${credentials.scramPassword}]`;
    await formatStorage(kafkaLibs(this.#state), props, `${this.dir}/data`, newClusterId(), this.log, [
      "--add-scram",
      scram("SCRAM-SHA-256"),
      "--add-scram",
      scram("SCRAM-SHA-512"),
    ]);
    const pid = await startBroker(this.root, kafkaLibs(this.#state), props, this.log, "512m");
    await writeAtomic(`${this.dir}/pid`, String(pid));
    const health = await this.waitHealthy(timeoutSec);
    this.#log(
      `kafka-secure: up (native, ssl ${this.ports.ssl}, sasl_ssl ${this.ports.saslSsl}, sasl ${this.ports.sasl}) in ${
        ((performance.now() - t0) / 1000).toFixed(1)
      }s`,
    );
    return health;
  }

  /** A metadata request on the internal plaintext listener. */
  async health(timeoutMs = 3000): Promise<HealthReport> {
    const endpoint = `127.0.0.1:${this.ports.internal}`;
    try {
      await using k = await connectKafka({ brokers: [endpoint], timeoutMs, security: null });
      return { ...(await k.health()), service: "kafka-secure" };
    } catch (err) {
      return { service: "kafka-secure", endpoint, ok: false, latencyMs: 0, detail: (err as Error).message };
    }
  }

  /** Waits until the broker answers; its exit meanwhile is an error naming its log. */
  async waitHealthy(timeoutSec = 120): Promise<HealthReport> {
    const deadline = Date.now() + timeoutSec * 1000;
    let last: HealthReport | undefined;
    while (Date.now() < deadline) {
      if (!this.#running()) {
        const lines = tail(this.log, 40).split("\n").filter((l) => /ERROR|FATAL|Exception/.test(l));
        throw new MercuryError("unavailable", `kafka-secure exited: ${(lines.pop() ?? "").slice(0, 300)}`, {
          where: this.log,
          hint: `read ${this.log}`,
        });
      }
      last = await this.health(2000);
      if (last.ok) return last;
      await sleep(250);
    }
    throw new MercuryError("timeout", `kafka-secure did not answer within ${timeoutSec}s: ${last?.detail ?? ""}`, {
      where: this.log,
      hint: `read ${this.log}`,
    });
  }

  /** Stops the broker; `purge` deletes its data, certificates and credentials. */
  async down(purge = false): Promise<string[]> {
    const lines: string[] = [];
    const pid = this.#pid();
    if (pid !== undefined) {
      await stopPid(pid, "SIGTERM", 20_000);
      lines.push(`kafka-secure: stopped (pid ${pid})`);
    } else {
      lines.push("kafka-secure: was not running");
    }
    await Deno.remove(`${this.dir}/pid`).catch(() => {});
    if (purge) {
      await Deno.remove(this.dir, { recursive: true }).catch(() => {});
      lines.push("kafka-secure: data removed");
    }
    return lines;
  }

  async #credentials(): Promise<SecureCredentials> {
    const path = `${this.dir}/credentials.json`;
    try {
      return this.credentials();
    } catch { /* made below */ }
    const secret = () =>
      Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) => b.toString(16).padStart(2, "0")).join("");
    const c: SecureCredentials = { username: "mercury", scramPassword: secret(), plainPassword: secret() };
    await writeAtomic(path, JSON.stringify(c, null, 2) + "\n");
    await Deno.chmod(path, 0o600);
    return c;
  }

  /** CA, server and client certificates (RSA 2048, ten years), made once. */
  async #certificates(): Promise<void> {
    const d = this.dir;
    try {
      Deno.statSync(`${d}/server.keystore.pem`);
      return;
    } catch { /* made below */ }
    const ssl = (args: string[], what: string) => runOk("openssl", args, what, { logFile: this.log });
    await ssl([
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      `${d}/ca.key`,
      "-out",
      `${d}/ca.pem`,
      "-days",
      "3650",
      "-subj",
      "/CN=Mercury test CA",
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign",
    ], "the test CA");
    for (
      const [name, cn, ext] of [
        ["server", "localhost", "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth"],
        ["client", "mercury-client", "extendedKeyUsage=clientAuth"],
      ] as const
    ) {
      await ssl([
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        `${d}/${name}.key`,
        "-out",
        `${d}/${name}.csr`,
        "-subj",
        `/CN=${cn}`,
      ], `the ${name} key`);
      await Deno.writeTextFile(
        `${d}/${name}.ext`,
        `basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n${ext}\n`,
      );
      await ssl([
        "x509",
        "-req",
        "-in",
        `${d}/${name}.csr`,
        "-CA",
        `${d}/ca.pem`,
        "-CAkey",
        `${d}/ca.key`,
        "-CAcreateserial",
        "-out",
        `${d}/${name}.pem`,
        "-days",
        "3650",
        "-extfile",
        `${d}/${name}.ext`,
      ], `the ${name} certificate`);
    }
    // Kafka's PEM key store: the private key (PKCS#8, unencrypted) and the certificate chain in one file.
    const keystore = [await Deno.readTextFile(`${d}/server.key`), await Deno.readTextFile(`${d}/server.pem`)].join(
      "\n",
    );
    await writeAtomic(`${d}/server.keystore.pem`, keystore);
  }
}
