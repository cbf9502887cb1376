/**
 * Retention pruning scheduled by the server: every view with `retentionDays`
 * has its offline date partitions older than that deleted (`OfflineStore.prune`)
 * once at start and then every `everyMs`, with Prometheus counters of what was
 * pruned and when the last round ran. Rounds never overlap; a failed round is
 * counted and the next one runs as planned.
 *
 * @module
 */
import type { Registry } from "@mercury/core";
import type { OfflineStore } from "./offline_store.ts";

/** Options of {@linkcode scheduleRetention}. */
export interface RetentionOptions {
  /** Time between rounds (default one hour). */
  everyMs?: number;
  /** Where the counters go (`mercury_features_pruned_partitions_total{view}`, …); none by default. */
  registry?: Registry;
  /** The clock (default `new Date()`), passed to `prune`. */
  now?: () => Date;
  /** Called after each round. */
  onRound?: (round: PruneRound) => void;
}

/** What one round pruned, per view (views with nothing pruned left out). */
export interface PruneRound {
  at: Date;
  pruned: Record<string, string[]>;
  error?: string;
}

/**
 * Starts pruning on a schedule; the returned `stop()` waits for a running round.
 *
 * @example
 * ```ts ignore
 * const retention = scheduleRetention(fs.offline, { everyMs: 3_600_000, registry: server.metrics.registry });
 * // … serve …
 * await retention.stop();
 * ```
 */
export function scheduleRetention(
  offline: OfflineStore,
  options: RetentionOptions = {},
): { stop(): Promise<void>; runNow(): Promise<PruneRound> } {
  const everyMs = options.everyMs ?? 3_600_000;
  const now = options.now ?? (() => new Date());
  const partitions = options.registry?.counter(
    "mercury_features_pruned_partitions_total",
    "Offline date partitions deleted by retention pruning",
    ["view"],
  );
  const rounds = options.registry?.counter(
    "mercury_features_prune_rounds_total",
    "Retention pruning rounds, by result",
    ["result"],
  );
  const last = options.registry?.gauge(
    "mercury_features_prune_last_round_timestamp_seconds",
    "When the last retention pruning round finished",
  );
  let running: Promise<PruneRound> | undefined;
  const round = async (): Promise<PruneRound> => {
    const at = now();
    const pruned: Record<string, string[]> = {};
    try {
      for (const v of offline.repo.views) {
        if (!v.retentionDays) continue;
        const p = await offline.prune(v.name, at);
        if (p.length) {
          pruned[v.name] = p;
          partitions?.inc({ view: v.name }, p.length);
        }
      }
      rounds?.inc({ result: "ok" });
      return { at, pruned };
    } catch (err) {
      rounds?.inc({ result: "error" });
      return { at, pruned, error: (err as Error).message };
    } finally {
      last?.set({}, Date.now() / 1000);
    }
  };
  const runNow = () => {
    running ??= round().then((r) => {
      options.onRound?.(r);
      return r;
    }).finally(() => running = undefined);
    return running;
  };
  void runNow();
  const timer = setInterval(() => void runNow(), everyMs);
  return {
    runNow,
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
