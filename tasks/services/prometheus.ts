/**
 * Prometheus from Debian's `prometheus` package, on loopback port 59090, its
 * TSDB and log under `.mercury/prometheus`. What it scrapes is a file_sd
 * targets list Mercury maintains (`.mercury/prometheus/targets/*.json`, e.g.
 * written by `observe setup` / `observe deploy`), read again by Prometheus
 * whenever it changes; alert rules are the files under
 * `.mercury/prometheus/rules/` (reloaded with `POST /-/reload`).
 *
 * @module
 */
import { DEFAULT_PORTS, type HealthReport } from "@mercury/core";
import { httpHealth } from "./mlflow.ts";
import { aptInstall, onPath, spawnDetached, stopPid, writeAtomic } from "./_process.ts";
import { type NativeService, servicePaths } from "./native.ts";

/** Where Mercury writes what Prometheus reads: the config, scrape targets and alert rules. */
export function prometheusDirs(state: string): { config: string; targets: string; rules: string } {
  const dir = `${state}/prometheus`;
  return { config: `${dir}/prometheus.yml`, targets: `${dir}/targets`, rules: `${dir}/rules` };
}

/** The Prometheus configuration the native server runs with (scrape every 5 s, file_sd targets, rule files). */
export function prometheusConfig(state: string): string {
  const d = prometheusDirs(state);
  return [
    "# Written by `deno task services up prometheus`; edit the targets and rules directories, not this file.",
    "global:",
    "  scrape_interval: 5s",
    "  evaluation_interval: 5s",
    "rule_files:",
    `  - ${JSON.stringify(`${d.rules}/*.yml`)}`,
    "scrape_configs:",
    "  - job_name: prometheus",
    "    static_configs:",
    '      - targets: ["127.0.0.1:__PORT__"]',
    "  - job_name: mercury",
    "    file_sd_configs:",
    "      - files:",
    `          - ${JSON.stringify(`${d.targets}/*.json`)}`,
    "        refresh_interval: 5s",
    "",
  ].join("\n");
}

/** The native Prometheus service. */
export function prometheusService(state: string, port: number = DEFAULT_PORTS.prometheus): NativeService {
  const paths = servicePaths(state, "prometheus");
  const url = `http://127.0.0.1:${port}`;
  const dirs = prometheusDirs(state);
  let bin = "prometheus";
  return {
    name: "prometheus",
    ports: [port],
    paths,
    marker: `--web.listen-address=127.0.0.1:${port}`,
    endpoint: url,
    async install() {
      let found = await onPath("prometheus");
      if (!found || !(await onPath("promtool"))) {
        await aptInstall(["prometheus"], "Prometheus (prometheus, promtool)");
        found = await onPath("prometheus");
      }
      bin = found ?? bin;
    },
    async start() {
      await Deno.mkdir(paths.data, { recursive: true });
      await Deno.mkdir(dirs.targets, { recursive: true });
      await Deno.mkdir(dirs.rules, { recursive: true });
      await writeAtomic(dirs.config, prometheusConfig(state).replace("__PORT__", String(port)));
      return await spawnDetached(
        bin,
        [
          `--config.file=${dirs.config}`,
          `--storage.tsdb.path=${paths.data}`,
          `--web.listen-address=127.0.0.1:${port}`,
          "--web.enable-lifecycle",
          "--storage.tsdb.retention.time=7d",
        ],
        paths.log,
        { cwd: paths.dir },
      );
    },
    stop: (pid) => stopPid(pid, "SIGTERM"),
    async health(timeoutMs = 3000): Promise<HealthReport> {
      return await httpHealth("prometheus", url, `${url}/-/ready`, timeoutMs);
    },
  };
}
