/**
 * What the launcher needs from one natively run service.
 *
 * @module
 */
import type { HealthReport, ServiceName } from "@mercury/core";

/** Paths of one service under `.mercury/<name>/`. */
export interface ServicePaths {
  dir: string;
  data: string;
  log: string;
}

/** A server the launcher runs as a local process. */
export interface NativeService {
  name: ServiceName;
  /** Loopback ports it listens on. */
  ports: number[];
  paths: ServicePaths;
  /** A string in the process's command line that proves a pid is ours. */
  marker: string;
  /** The endpoint written to services.json (brokers list or URL). */
  endpoint: string;
  /** Makes sure binaries (and jars) are there, installing them when allowed. */
  install(): Promise<void>;
  /** Prepares data (initdb, storage format) and starts the server; returns its pid. */
  start(): Promise<number>;
  /** Stops the server started with `pid`. */
  stop(pid: number): Promise<void>;
  /** One real request: `select 1`, `PING`, Kafka metadata. */
  health(timeoutMs?: number): Promise<HealthReport>;
  /**
   * Loads what `health` needs (client modules) before any health timer starts: a module load that
   * parses for seconds on a busy machine would otherwise starve the other services' checks.
   */
  prepare?(): Promise<void>;
  /** Extra facts for `status` (e.g. TimescaleDB availability). */
  notes?(): Promise<string>;
  /** Seconds the launcher waits for a first answer at least, whatever --timeout says (default none). */
  minStartSec?: number;
  /** Run natively even where Docker Compose runs the others (it has no compose service). */
  nativeOnly?: boolean;
  /** Runs once after the first healthy start (create the database…). */
  afterStart?(): Promise<void>;
}

/** `.mercury/<name>/{data,<name>.log}`. */
export function servicePaths(state: string, name: string): ServicePaths {
  const dir = `${state}/${name}`;
  return { dir, data: `${dir}/data`, log: `${dir}/${name}.log` };
}
