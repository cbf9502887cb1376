/**
 * The Kafka wire basics the stream plugin's lean paths share
 * ({@linkcode Fetcher} and {@linkcode RecordProducer}): a TCP connection that
 * pipelines requests and returns each response frame, request headers, and
 * big-endian / varint helpers. Connecting and every request run under a
 * deadline (default {@linkcode DEFAULT_REQUEST_TIMEOUT_MS}): a broker that
 * does not answer in time has its connection closed and every request on it
 * fails with an error naming its address. Connections use TLS
 * (`Deno.connectTls`: the server verified, a client certificate when given)
 * and SASL (PLAIN, SCRAM-SHA-256/512, see `kafka_sasl.ts`) when the resolved
 * endpoint's `security` says so (environment > services file); a plaintext
 * client against a TLS or SASL listener fails at once with a hint. Everything else of the protocol (group
 * membership, admin, metadata) is `@platformatic/kafka`'s.
 *
 * @module
 */

import type { KafkaSecurity } from "@mercury/core";
import { DEFAULT_REQUEST_TIMEOUT_MS, kafkaSecurity } from "./kafka_deadline.ts";
import { saslSession } from "./kafka_sasl.ts";

/** What a broker that closed the connection before its first answer probably wanted, as a hint. */
const LISTENER_HINT = "is it a TLS or SASL listener? set MERCURY_KAFKA_TLS=1 (and MERCURY_KAFKA_TLS_CA) or " +
  "MERCURY_KAFKA_SASL_MECHANISM/_USERNAME/_PASSWORD, or use the broker's plaintext port";
const SASL_HANDSHAKE = 17;
const SASL_AUTHENTICATE = 36;

/** A Kafka connection: requests are written in order and their responses read in the same order. */
export class KafkaConnection {
  #conn: Deno.Conn;
  #address: string;
  /** Whether a whole response arrived on this connection (a close before the first one hints at a wrong listener). */
  #answered = false;
  #timeoutMs: number;
  #stage = new Uint8Array(64 * 1024);
  #have = 0;
  #writes: Promise<unknown> = Promise.resolve();
  #reads: Promise<unknown> = Promise.resolve();
  #closed = false;

  private constructor(conn: Deno.Conn, address: string, timeoutMs: number) {
    this.#conn = conn;
    this.#address = address;
    this.#timeoutMs = timeoutMs;
  }

  /**
   * Connects (no delay: requests go out at once) within `timeoutMs`; each
   * request then has `timeoutMs` (plus what it asks the broker to wait, see
   * {@linkcode KafkaConnection.request}) to be answered.
   */
  static async open(
    hostname: string,
    port: number,
    timeoutMs = DEFAULT_REQUEST_TIMEOUT_MS,
    security: KafkaSecurity | undefined = kafkaSecurity(),
  ): Promise<KafkaConnection> {
    const address = `${hostname}:${port}`;
    const abort = AbortSignal.timeout(timeoutMs);
    let conn: Deno.Conn;
    if (security?.tls) {
      conn = await connectTls(hostname, port, security.tls, timeoutMs);
    } else {
      try {
        const tcp = await Deno.connect({ hostname, port, signal: abort });
        tcp.setNoDelay(true);
        conn = tcp;
      } catch (err) {
        const why = abort.aborted ? `no connection within ${timeoutMs} ms` : (err as Error).message;
        throw new Error(`cannot connect to ${address}: ${why}`, { cause: err });
      }
    }
    const kc = new KafkaConnection(conn, address, timeoutMs);
    if (security?.sasl) {
      try {
        await kc.#authenticate(security.sasl);
      } catch (err) {
        kc.close();
        throw err;
      }
    }
    return kc;
  }

  /** SaslHandshake v1, then SaslAuthenticate v1 rounds until the mechanism's exchange is over. */
  async #authenticate(sasl: NonNullable<KafkaSecurity["sasl"]>): Promise<void> {
    const client = new TextEncoder().encode("mercury-sasl");
    const mechanism = new TextEncoder().encode(sasl.mechanism);
    const hs = new DataView(
      (await this.request(new RequestWriter(SASL_HANDSHAKE, 1, 1, client).string(mechanism).done())).buffer,
    );
    const hsError = hs.getInt16(4);
    if (hsError !== 0) {
      const offered: string[] = [];
      let i = 6;
      const n = hs.getInt32(i);
      i += 4;
      for (let k = 0; k < n && i + 2 <= hs.byteLength; k++) {
        const len = hs.getInt16(i);
        offered.push(new TextDecoder().decode(new Uint8Array(hs.buffer, i + 2, len)));
        i += 2 + len;
      }
      throw new Error(
        `${this.#address} does not accept SASL ${sasl.mechanism} (Kafka error ${hsError}; it offers ${
          offered.join(", ") || "none"
        })`,
      );
    }
    const session = saslSession(sasl);
    let server: Uint8Array | undefined;
    for (let round = 2;; round++) {
      let bytes: Uint8Array | undefined;
      try {
        bytes = await session.next(server);
      } catch (err) {
        throw new Error(
          `SASL ${sasl.mechanism} as "${sasl.username}" at ${this.#address} failed: ${(err as Error).message}`,
        );
      }
      if (bytes === undefined) return;
      const frame = await this.request(
        new RequestWriter(SASL_AUTHENTICATE, 1, round, client, 64 + bytes.length).int32(bytes.length).bytes(bytes)
          .done(),
      );
      const v = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
      const error = v.getInt16(4);
      let i = 6;
      const msgLen = v.getInt16(i);
      i += 2;
      const message = msgLen >= 0 ? new TextDecoder().decode(frame.subarray(i, i + msgLen)) : "";
      i += Math.max(0, msgLen);
      if (error !== 0) {
        throw new Error(
          `SASL ${sasl.mechanism} as "${sasl.username}" at ${this.#address} was refused: ${
            message || `Kafka error ${error}`
          }`,
        );
      }
      const len = v.getInt32(i);
      server = frame.slice(i + 4, i + 4 + Math.max(0, len));
    }
  }

  /** The broker's `host:port`. */
  get address(): string {
    return this.#address;
  }

  /**
   * Sends a request (its size prefix included, as {@linkcode RequestWriter}
   * builds it) and resolves with its response frame without the size prefix
   * (the correlation id first). Several may be in flight.
   *
   * Unanswered within the connection's timeout plus `waitMs` (what the request
   * asks the broker to wait, e.g. a fetch's max wait or a produce's timeout),
   * the connection is closed: this and every later request on it fail.
   */
  request(bytes: Uint8Array, waitMs = 0): Promise<Uint8Array> {
    const correlation = new DataView(bytes.buffer, bytes.byteOffset).getInt32(8);
    const written = this.#writes.then(async () => {
      for (let off = 0; off < bytes.length;) off += await this.#conn.write(bytes.subarray(off));
    });
    this.#writes = written.catch(() => {});
    const response = Promise.all([this.#reads, written]).then(async () => {
      const frame = await this.#readFrame();
      const got = new DataView(frame.buffer).getInt32(0);
      if (got !== correlation) {
        this.close(); // the stream is out of step: nothing after this can be trusted
        throw new Error(`${this.#address} answered ${got} to request ${correlation}`);
      }
      return frame;
    });
    this.#reads = response.catch(() => {});
    return this.#deadline(response, this.#timeoutMs + waitMs);
  }

  /** Fails `response` after `ms`, closing the connection (its stream would be out of step). */
  #deadline(response: Promise<Uint8Array>, ms: number): Promise<Uint8Array> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.close();
        reject(new Error(`no answer from ${this.#address} within ${ms} ms`));
      }, ms);
    });
    return Promise.race([response, expired]).finally(() => clearTimeout(timer));
  }

  async #readFrame(): Promise<Uint8Array> {
    while (this.#have < 4) await this.#fill();
    if (!this.#answered && (this.#stage[0] === 0x15 || this.#stage[0] === 0x16) && this.#stage[1] === 3) {
      // A TLS record (an alert or a handshake) where a Kafka response was expected.
      this.close();
      throw new Error(`${this.#address} answered with TLS: it is a TLS listener (set MERCURY_KAFKA_TLS=1)`);
    }
    const size = new DataView(this.#stage.buffer).getInt32(0);
    if (size < 4 || size > 1 << 30) {
      this.close();
      throw new Error(`${this.#address} sent a bad response size ${size}`);
    }
    const frame = new Uint8Array(size);
    const already = Math.min(this.#have - 4, size);
    frame.set(this.#stage.subarray(4, 4 + already));
    // Keep what follows the frame (the next response's start) at the stage's start.
    this.#stage.copyWithin(0, 4 + already, this.#have);
    this.#have -= 4 + already;
    for (let got = already; got < size;) {
      const n = await this.#conn.read(frame.subarray(got));
      if (n === null) throw this.#closedError();
      got += n;
    }
    this.#answered = true;
    return frame;
  }

  async #fill(): Promise<void> {
    const n = await this.#conn.read(this.#stage.subarray(this.#have));
    if (n === null) throw this.#closedError();
    this.#have += n;
  }

  #closedError(): Error {
    return new Error(
      this.#answered
        ? `connection closed by ${this.#address}`
        : `connection closed by ${this.#address} before it answered (${LISTENER_HINT})`,
    );
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch {
      // already closed
    }
  }
}

/**
 * Opens a TLS connection and completes the handshake within `timeoutMs`: the
 * server's certificate is checked against `tls.ca` (or the system's roots) and
 * the host name; `tls.cert`/`tls.key` are presented when the broker asks.
 */
async function connectTls(
  hostname: string,
  port: number,
  tls: NonNullable<KafkaSecurity["tls"]>,
  timeoutMs: number,
): Promise<Deno.TlsConn> {
  const address = `${hostname}:${port}`;
  const read = (path: string) => Deno.readTextFileSync(path);
  let timer: ReturnType<typeof setTimeout> | undefined;
  let late = false;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      late = true;
      reject(
        new Error(`cannot connect to ${address} with TLS: no handshake within ${timeoutMs} ms (${LISTENER_HINT})`),
      );
    }, timeoutMs);
  });
  const opening = (async () => {
    const conn = await Deno.connectTls({
      hostname,
      port,
      ...(tls.ca ? { caCerts: [read(tls.ca)] } : {}),
      ...(tls.cert && tls.key ? { cert: read(tls.cert), key: read(tls.key) } : {}),
    });
    try {
      await conn.handshake();
    } catch (err) {
      conn.close();
      throw err;
    }
    if (late) conn.close();
    return conn;
  })();
  try {
    return await Promise.race([opening, expired]);
  } catch (err) {
    const message = (err as Error).message;
    if (message.startsWith("cannot connect")) throw err;
    const hint = /InvalidContentType|corrupt message|unexpected eof|peer closed|bad record/i.test(message)
      ? " (is it a plaintext listener? unset MERCURY_KAFKA_TLS for it)"
      : /certificate|UnknownIssuer|NotValidForName/i.test(message)
      ? " (does MERCURY_KAFKA_TLS_CA name the CA that signed the broker's certificate?)"
      : "";
    throw new Error(`TLS handshake with ${address} failed: ${message}${hint}`, { cause: err });
  } finally {
    clearTimeout(timer);
    opening.catch(() => {});
  }
}

/** A broker's address. */
export interface BrokerAddress {
  host: string;
  port: number;
}

/**
 * One connection per broker, opened on first use and shared: requests to a
 * broker keep their order (produce sequences need it). A connection that
 * failed is dropped; the next use opens a new one.
 */
export class ConnectionPool {
  #conns = new Map<string, Promise<KafkaConnection>>();
  #timeoutMs: number;
  #security: KafkaSecurity | undefined;

  /** Connections connect (with `security`'s TLS and SASL), and answer each request, within `timeoutMs`. */
  constructor(timeoutMs = DEFAULT_REQUEST_TIMEOUT_MS, security: KafkaSecurity | undefined = kafkaSecurity()) {
    this.#timeoutMs = timeoutMs;
    this.#security = security;
  }

  /** The key of a broker (`host:port`), for grouping partitions by leader. */
  static key(b: BrokerAddress): string {
    return `${b.host}:${b.port}`;
  }

  /** The broker's connection (opening it once; concurrent callers share the attempt). */
  get(b: BrokerAddress): Promise<KafkaConnection> {
    const key = ConnectionPool.key(b);
    let conn = this.#conns.get(key);
    if (!conn) {
      conn = KafkaConnection.open(b.host, b.port, this.#timeoutMs, this.#security);
      this.#conns.set(key, conn);
      // A failed attempt is not kept: the next use tries again.
      conn.catch(() => this.#conns.get(key) === conn && this.#conns.delete(key));
    }
    return conn;
  }

  /** Closes and forgets the broker's connection (after it failed). */
  drop(b: BrokerAddress): void {
    const key = ConnectionPool.key(b);
    const conn = this.#conns.get(key);
    this.#conns.delete(key);
    void conn?.then((c) => c.close(), () => {});
  }

  /** Closes every connection (requests in flight fail). */
  async close(): Promise<void> {
    const conns = [...this.#conns.values()];
    this.#conns.clear();
    for (const c of await Promise.allSettled(conns)) if (c.status === "fulfilled") c.value.close();
  }
}

/** Items grouped by the broker they go to (e.g. partitions by leader), one entry per broker. */
export function groupByBroker<T>(
  items: Iterable<readonly [BrokerAddress, T]>,
): { broker: BrokerAddress; items: T[] }[] {
  const groups = new Map<string, { broker: BrokerAddress; items: T[] }>();
  for (const [broker, item] of items) {
    const key = ConnectionPool.key(broker);
    if (!groups.has(key)) groups.set(key, { broker, items: [] });
    groups.get(key)!.items.push(item);
  }
  return [...groups.values()];
}

/** Builds one request: size prefix, header v1 (api key, version, correlation id, client id), then the body. */
export class RequestWriter {
  buf: Uint8Array;
  view: DataView;
  at = 4;

  constructor(apiKey: number, version: number, correlation: number, clientId: Uint8Array, size = 1024) {
    this.buf = new Uint8Array(size);
    this.view = new DataView(this.buf.buffer);
    this.int16(apiKey).int16(version).int32(correlation).int16(clientId.length).bytes(clientId);
  }

  #room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const bigger = new Uint8Array(Math.max(this.buf.length * 2, this.at + n));
    bigger.set(this.buf.subarray(0, this.at));
    this.buf = bigger;
    this.view = new DataView(bigger.buffer);
  }

  int8(v: number): this {
    this.#room(1);
    this.view.setInt8(this.at, v);
    this.at += 1;
    return this;
  }

  int16(v: number): this {
    this.#room(2);
    this.view.setInt16(this.at, v);
    this.at += 2;
    return this;
  }

  int32(v: number): this {
    this.#room(4);
    this.view.setInt32(this.at, v);
    this.at += 4;
    return this;
  }

  int64(v: number | bigint): this {
    this.#room(8);
    this.view.setBigInt64(this.at, BigInt(v));
    this.at += 8;
    return this;
  }

  bytes(b: Uint8Array): this {
    this.#room(b.length);
    this.buf.set(b, this.at);
    this.at += b.length;
    return this;
  }

  /** A non-nullable string with an int16 length. */
  string(s: Uint8Array): this {
    return this.int16(s.length).bytes(s);
  }

  /** The finished request, size prefix filled in. */
  done(): Uint8Array {
    this.view.setInt32(0, this.at - 4);
    return this.buf.subarray(0, this.at);
  }
}

/** A big-endian int64 as a number (exact below 2^53). */
export function int64(v: DataView, i: number): number {
  return v.getInt32(i) * 4294967296 + v.getUint32(i + 4);
}
