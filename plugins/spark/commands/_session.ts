/**
 * A CLI command's Spark session: connected once, Ctrl-C (SIGINT/SIGTERM)
 * wired to interrupt the running operation on the server.
 *
 * @module
 */
import { onSignal } from "@mercury/core/signal";
import { SparkSession } from "../connect/session.ts";

/** Runs `fn` with a connected session and an abort signal that Ctrl-C fires. */
export async function withSession<T>(fn: (spark: SparkSession, signal: AbortSignal) => Promise<T>): Promise<T> {
  const spark = await SparkSession.connect();
  const ac = new AbortController();
  const sig = onSignal(() => ac.abort());
  try {
    return await fn(spark, ac.signal);
  } finally {
    sig.remove();
    await spark.close();
  }
}
