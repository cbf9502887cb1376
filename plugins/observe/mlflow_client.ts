/**
 * A small client of MLflow's REST API (tracking, artifacts served by the
 * tracking server, model registry with aliases), over `fetch` only: what the
 * observe plugin needs to log training runs, store tfjs model files as run
 * artifacts, register versions and move the serving alias.
 *
 * Endpoints used (MLflow 3.x): `experiments/get-by-name|create`,
 * `runs/create|log-batch|update|get`, `mlflow-artifacts/artifacts/<path>`
 * (PUT/GET, needs `--serve-artifacts`), `registered-models/create|get|alias`,
 * `model-versions/create|get|set-tag|search`.
 *
 * @example
 * ```ts ignore
 * const mlflow = new MlflowClient(ctx.endpoints().mlflow.url);
 * const run = await mlflow.createRun("churn", { runName: "train-1" });
 * await mlflow.logBatch(run.runId, { params: { epochs: 20 }, metrics: { auc: 0.91 } });
 * await mlflow.uploadArtifact(run, "model/model.json", bytes);
 * const v = await mlflow.registerVersion("churn", run, "model");
 * await mlflow.setAlias("churn", "champion", v.version);
 * ```
 *
 * @module
 */
import { MercuryError } from "@mercury/core/plugin";

/** A run as the registry needs it. */
export interface MlflowRun {
  runId: string;
  experimentId: string;
  /** `mlflow-artifacts:/<experiment>/<run>/artifacts` */
  artifactUri: string;
}

/** One registered model version. */
export interface ModelVersion {
  name: string;
  version: string;
  runId: string;
  source: string;
  status: string;
  tags: Record<string, string>;
  aliases: string[];
}

/** A failed MLflow call: HTTP status and MLflow's error code (`RESOURCE_DOES_NOT_EXIST`…). */
export class MlflowError extends MercuryError {
  constructor(readonly status: number, readonly errorCode: string, message: string, where: string) {
    super(status === 404 || errorCode === "RESOURCE_DOES_NOT_EXIST" ? "not_found" : "unavailable", message, {
      where,
      hint: status === 0 ? "start it: deno task services up mlflow" : undefined,
    });
  }
}

/** MLflow REST client for one tracking server. */
export class MlflowClient {
  readonly url: string;
  readonly timeoutMs: number;

  constructor(url: string, options: { timeoutMs?: number } = {}) {
    this.url = url.replace(/\/$/, "");
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  async #call<T>(method: "GET" | "POST", path: string, body?: Record<string, unknown>): Promise<T> {
    let url = `${this.url}/api/2.0/mlflow/${path}`;
    if (method === "GET" && body) {
      url += "?" + new URLSearchParams(Object.entries(body).map(([k, v]) => [k, String(v)]));
    }
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: method === "POST" ? { "content-type": "application/json" } : undefined,
        body: method === "POST" ? JSON.stringify(body ?? {}) : undefined,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw new MlflowError(0, "UNREACHABLE", `MLflow at ${this.url} does not answer: ${(err as Error).message}`, url);
    }
    const text = await res.text();
    if (!res.ok) {
      let code = "HTTP_" + res.status;
      let message = text.slice(0, 300);
      try {
        const j = JSON.parse(text);
        code = j.error_code ?? code;
        message = j.message ?? message;
      } catch { /* not JSON */ }
      throw new MlflowError(res.status, code, `MLflow ${path}: ${code}: ${message}`, url);
    }
    return (text ? JSON.parse(text) : {}) as T;
  }

  /** Whether the server answers `/health`. */
  async healthy(): Promise<boolean> {
    try {
      const r = await fetch(`${this.url}/health`, { signal: AbortSignal.timeout(2000) });
      await r.body?.cancel();
      return r.ok;
    } catch {
      return false;
    }
  }

  /** The id of experiment `name`, created when missing. */
  async experimentId(name: string): Promise<string> {
    try {
      const r = await this.#call<{ experiment: { experiment_id: string } }>("GET", "experiments/get-by-name", {
        experiment_name: name,
      });
      return r.experiment.experiment_id;
    } catch (err) {
      if (!(err instanceof MlflowError && err.errorCode === "RESOURCE_DOES_NOT_EXIST")) throw err;
    }
    const r = await this.#call<{ experiment_id: string }>("POST", "experiments/create", { name });
    return r.experiment_id;
  }

  /** Starts a run in experiment `experiment` (by name). */
  async createRun(experiment: string, options: { runName?: string; tags?: Record<string, string> } = {}) {
    const experimentId = await this.experimentId(experiment);
    const r = await this.#call<{ run: { info: { run_id: string; artifact_uri: string } } }>("POST", "runs/create", {
      experiment_id: experimentId,
      start_time: Date.now(),
      run_name: options.runName,
      tags: Object.entries(options.tags ?? {}).map(([key, value]) => ({ key, value })),
    });
    return { runId: r.run.info.run_id, experimentId, artifactUri: r.run.info.artifact_uri } satisfies MlflowRun;
  }

  /** Logs params (as text), metrics (numbers, at `step`) and tags in one call. */
  async logBatch(
    runId: string,
    data: {
      params?: Record<string, string | number | boolean>;
      metrics?: Record<string, number>;
      tags?: Record<string, string>;
      step?: number;
    },
  ): Promise<void> {
    const ts = Date.now();
    await this.#call("POST", "runs/log-batch", {
      run_id: runId,
      params: Object.entries(data.params ?? {}).map(([key, value]) => ({ key, value: String(value) })),
      metrics: Object.entries(data.metrics ?? {}).map(([key, value]) => ({
        key,
        value,
        timestamp: ts,
        step: data.step ?? 0,
      })),
      tags: Object.entries(data.tags ?? {}).map(([key, value]) => ({ key, value })),
    });
  }

  /** Ends a run. */
  async finishRun(runId: string, status: "FINISHED" | "FAILED" = "FINISHED"): Promise<void> {
    await this.#call("POST", "runs/update", { run_id: runId, status, end_time: Date.now() });
  }

  /** A run's params, metrics and tags. */
  async getRun(runId: string): Promise<
    { params: Record<string, string>; metrics: Record<string, number>; tags: Record<string, string>; status: string }
  > {
    const r = await this.#call<{
      run: {
        info: { status: string };
        data: {
          params?: { key: string; value: string }[];
          metrics?: { key: string; value: number }[];
          tags?: { key: string; value: string }[];
        };
      };
    }>("GET", "runs/get", { run_id: runId });
    const kv = <V>(xs: { key: string; value: V }[] | undefined) =>
      Object.fromEntries((xs ?? []).map((x) => [x.key, x.value]));
    return {
      params: kv(r.run.data.params),
      metrics: kv(r.run.data.metrics),
      tags: kv(r.run.data.tags),
      status: r.run.info.status,
    };
  }

  #artifactUrl(artifactUri: string, path: string): string {
    const m = /^mlflow-artifacts:\/(.*)$/.exec(artifactUri);
    if (!m) {
      throw new MercuryError("config", `artifact URI ${artifactUri} is not served by the tracking server`, {
        where: this.url,
        hint: "start MLflow with --serve-artifacts (deno task services up mlflow does)",
      });
    }
    const base = m[1]!.replace(/^\/+/, "");
    return `${this.url}/api/2.0/mlflow-artifacts/artifacts/${base}/${
      path.split("/").map(encodeURIComponent).join("/")
    }`;
  }

  /** Uploads one artifact file of a run (through the tracking server's artifact proxy). */
  async uploadArtifact(run: MlflowRun, path: string, bytes: Uint8Array | string): Promise<void> {
    const url = this.#artifactUrl(run.artifactUri, path);
    const body = (typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes) as Uint8Array<ArrayBuffer>;
    let res: Response;
    try {
      res = await fetch(url, { method: "PUT", body, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (err) {
      throw new MlflowError(0, "UNREACHABLE", `MLflow at ${this.url} does not answer: ${(err as Error).message}`, url);
    }
    const text = await res.text();
    if (!res.ok) throw new MlflowError(res.status, `HTTP_${res.status}`, `upload of ${path} failed: ${text}`, url);
  }

  /** Downloads one artifact file given its full `mlflow-artifacts:/…` directory and a relative path. */
  async downloadArtifact(artifactUri: string, path: string): Promise<Uint8Array> {
    const url = this.#artifactUrl(artifactUri, path);
    let res: Response;
    try {
      res = await fetch(url, { signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (err) {
      throw new MlflowError(0, "UNREACHABLE", `MLflow at ${this.url} does not answer: ${(err as Error).message}`, url);
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new MlflowError(res.status, `HTTP_${res.status}`, `artifact ${path} not found under ${artifactUri}`, url);
    }
    return new Uint8Array(await res.arrayBuffer());
  }

  /** Creates registered model `name` unless it exists. */
  async ensureRegisteredModel(name: string, description = ""): Promise<void> {
    try {
      await this.#call("POST", "registered-models/create", { name, description });
    } catch (err) {
      if (!(err instanceof MlflowError && err.errorCode === "RESOURCE_ALREADY_EXISTS")) throw err;
    }
  }

  /** Registers the run's artifact directory `path` as a new version of `name`. */
  async registerVersion(
    name: string,
    run: MlflowRun,
    path: string,
    tags: Record<string, string> = {},
  ): Promise<ModelVersion> {
    await this.ensureRegisteredModel(name);
    const r = await this.#call<{ model_version: RawVersion }>("POST", "model-versions/create", {
      name,
      source: `${run.artifactUri}/${path}`,
      run_id: run.runId,
      tags: Object.entries(tags).map(([key, value]) => ({ key, value })),
    });
    return version(r.model_version);
  }

  /** Points `alias` of model `name` at `version`. */
  async setAlias(name: string, alias: string, version: string): Promise<void> {
    await this.#call("POST", "registered-models/alias", { name, alias, version });
  }

  /** The version `alias` points at, or undefined. */
  async versionByAlias(name: string, alias: string): Promise<ModelVersion | undefined> {
    try {
      const r = await this.#call<{ model_version: RawVersion }>("GET", "registered-models/alias", { name, alias });
      return version(r.model_version);
    } catch (err) {
      // MLflow answers a missing alias with INVALID_PARAMETER_VALUE "Registered model alias … not found".
      if (
        err instanceof MlflowError &&
        (err.status === 404 || err.errorCode === "RESOURCE_DOES_NOT_EXIST" || /alias .* not found/i.test(err.message))
      ) {
        return undefined;
      }
      throw err;
    }
  }

  /** One version of a registered model. */
  async getVersion(name: string, v: string): Promise<ModelVersion> {
    const r = await this.#call<{ model_version: RawVersion }>("GET", "model-versions/get", { name, version: v });
    return version(r.model_version);
  }

  /** Every version of a registered model, newest first. */
  async versions(name: string): Promise<ModelVersion[]> {
    const r = await this.#call<{ model_versions?: RawVersion[] }>("GET", "model-versions/search", {
      filter: `name='${name.replaceAll("'", "\\'")}'`,
      max_results: 1000,
    });
    return (r.model_versions ?? []).map(version).sort((a, b) => Number(b.version) - Number(a.version));
  }

  /** Sets a tag on a model version (the retraining records its decision here). */
  async setVersionTag(name: string, v: string, key: string, value: string): Promise<void> {
    await this.#call("POST", "model-versions/set-tag", { name, version: v, key, value });
  }
}

interface RawVersion {
  name: string;
  version: string;
  run_id?: string;
  source?: string;
  status?: string;
  tags?: { key: string; value: string }[];
  aliases?: string[];
}

function version(v: RawVersion): ModelVersion {
  return {
    name: v.name,
    version: String(v.version),
    runId: v.run_id ?? "",
    source: v.source ?? "",
    status: v.status ?? "",
    tags: Object.fromEntries((v.tags ?? []).map((t) => [t.key, t.value])),
    aliases: v.aliases ?? [],
  };
}
