/**
 * What Mercury tells the native Prometheus (`deno task services up prometheus`) to scrape: file_sd lists under
 * `.mercury/prometheus/targets/<name>.json`, written atomically and picked up by Prometheus within its refresh
 * interval (it watches the folder). The observe plugin's deployments and the stream plugin's autoscaled workers
 * both list themselves this way.
 *
 * @example
 * ```ts
 * import { removeTargets, writeTargets } from "@mercury/core/services/prometheus";
 * import assert from "node:assert/strict";
 *
 * const root = await Deno.makeTempDir();
 * const path = await writeTargets(root, "demo", ["127.0.0.1:9100"], { pool: "a" });
 * assert.deepEqual(JSON.parse(await Deno.readTextFile(path)), [
 *   { targets: ["127.0.0.1:9100"], labels: { job: "demo", pool: "a" } },
 * ]);
 * await removeTargets(root, "demo");
 * await Deno.remove(root, { recursive: true });
 * ```
 *
 * @module
 */
import { writeFileAtomic } from "../files.ts";

/** Where the native Prometheus reads targets and rules (the launcher's layout, `tasks/services/prometheus.ts`). */
export function prometheusPaths(root: string): { targets: string; rules: string } {
  return { targets: `${root}/.mercury/prometheus/targets`, rules: `${root}/.mercury/prometheus/rules` };
}

/** Writes the file_sd list `<name>.json` with `targets` (host:port) and labels (`job` is `name` unless given). */
export async function writeTargets(
  root: string,
  name: string,
  targets: string[],
  labels: Record<string, string> = {},
): Promise<string> {
  const dir = prometheusPaths(root).targets;
  await Deno.mkdir(dir, { recursive: true });
  const path = `${dir}/${name}.json`;
  await writeFileAtomic(path, JSON.stringify([{ targets, labels: { job: name, ...labels } }], null, 2) + "\n");
  return path;
}

/** Removes the list `<name>.json` (nothing when it is not there). */
export async function removeTargets(root: string, name: string): Promise<void> {
  await Deno.remove(`${prometheusPaths(root).targets}/${name}.json`).catch(() => {});
}
