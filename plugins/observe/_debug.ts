/**
 * Timing traces behind `MERCURY_DEBUG=1`: each awaited step of a request or a
 * prediction-log flush prints one line to stderr when it starts and when it
 * ends (with its duration), so a step that never returns shows as a start
 * without an end.
 *
 * @module
 */

function enabled(): boolean {
  try {
    return Deno.env.get("MERCURY_DEBUG") === "1";
  } catch {
    return false; // no --allow-env: tracing off
  }
}

/** True when `MERCURY_DEBUG=1` (read once). */
export const DEBUG: boolean = enabled();

/** Awaits `p`, tracing its start, end and duration under `MERCURY_DEBUG=1`. */
export async function traced<T>(what: string, p: Promise<T>): Promise<T> {
  if (!DEBUG) return await p;
  const t0 = performance.now();
  console.error(`[observe] ${what} …`);
  try {
    const v = await p;
    console.error(`[observe] ${what} done in ${(performance.now() - t0).toFixed(1)} ms`);
    return v;
  } catch (err) {
    console.error(`[observe] ${what} failed in ${(performance.now() - t0).toFixed(1)} ms: ${(err as Error).message}`);
    throw err;
  }
}
