/**
 * The MLflow tracking server and model registry, from PyPI's `mlflow` (pinned in
 * `services/mlflow/requirements.txt`) in a venv under `.mercury/mlflow/venv`, on
 * loopback port 55000: runs and the registry in SQLite
 * (`--backend-store-uri sqlite:///…/mlflow.db`), artifacts on disk under
 * `.mercury/mlflow/data/artifacts`, served by the tracking server itself
 * (`--serve-artifacts`), so clients upload and download over HTTP only.
 *
 * @module
 */
import { DEFAULT_PORTS, type HealthReport } from "@mercury/core";
import { ensureVenv } from "../python.ts";
import { spawnDetached, stopGroup } from "./_process.ts";
import { type NativeService, servicePaths } from "./native.ts";

/** The native MLflow service; `root` is the project (for the pinned requirements); `venv` may be shared. */
export function mlflowService(
  root: string,
  state: string,
  port: number = DEFAULT_PORTS.mlflow,
  venv = `${state}/mlflow/venv`,
): NativeService {
  const paths = servicePaths(state, "mlflow");
  const url = `http://127.0.0.1:${port}`;
  let python = `${venv}/bin/python`;
  return {
    name: "mlflow",
    ports: [port],
    paths,
    marker: `mlflow server --port ${port}`,
    endpoint: url,
    async install() {
      python = await ensureVenv(venv, `${root}/services/mlflow/requirements.txt`, "MLflow (tracking server)");
    },
    async start() {
      await Deno.mkdir(`${paths.data}/artifacts`, { recursive: true });
      return await spawnDetached(
        python,
        [
          "-m",
          "mlflow",
          "server",
          "--port",
          String(port),
          "--host",
          "127.0.0.1",
          "--backend-store-uri",
          `sqlite:///${paths.data}/mlflow.db`,
          "--artifacts-destination",
          `${paths.data}/artifacts`,
          "--serve-artifacts",
          "--workers",
          "1",
        ],
        paths.log,
        { cwd: paths.dir },
      );
    },
    // The server runs its web workers as children: stop the whole process group.
    stop: (pid) => stopGroup(pid),
    async health(timeoutMs = 3000): Promise<HealthReport> {
      return await httpHealth("mlflow", url, `${url}/health`, timeoutMs);
    },
  };
}

/** One GET that must answer 2xx: the health of an HTTP service. */
export async function httpHealth(
  service: string,
  endpoint: string,
  probe: string,
  timeoutMs: number,
): Promise<HealthReport> {
  const t0 = performance.now();
  try {
    const res = await fetch(probe, { signal: AbortSignal.timeout(timeoutMs) });
    const body = (await res.text()).trim().slice(0, 80);
    const latencyMs = performance.now() - t0;
    if (!res.ok) return { service, endpoint, ok: false, latencyMs, detail: `HTTP ${res.status} from ${probe}` };
    return { service, endpoint, ok: true, latencyMs, detail: body.replace(/\s+/g, " ") };
  } catch (err) {
    return { service, endpoint, ok: false, latencyMs: 0, detail: (err as Error).message };
  }
}
