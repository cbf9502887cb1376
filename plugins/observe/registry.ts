/**
 * The models a server answers with, loaded from MLflow's model registry: for
 * each registered model name, the version its alias (`champion` by default)
 * points at, else the newest version. `refresh()` asks MLflow again and swaps
 * in a new version when the alias moved; while MLflow does not answer the
 * loaded versions keep serving and the failure is counted.
 *
 * @module
 */
import type { Registry } from "@mercury/core";
import { type MlflowClient, MlflowError } from "./mlflow_client.ts";
import { type LoadedModel, loadVersion } from "./model.ts";

/** Options of {@linkcode ModelRegistry}. */
export interface ModelRegistryOptions {
  mlflow: MlflowClient;
  names: readonly string[];
  alias?: string;
  metrics?: Registry;
  /** Told when a model (new version) is loaded. */
  onLoad?: (m: LoadedModel) => void;
}

/** Served models by name. */
export class ModelRegistry {
  readonly #o: ModelRegistryOptions;
  readonly #models = new Map<string, LoadedModel>();
  readonly #versions = new Map<string, Map<string, LoadedModel>>();
  readonly #errors;
  lastError = "";
  refreshErrors = 0;
  #refreshing: Promise<string[]> | undefined;

  constructor(options: ModelRegistryOptions) {
    this.#o = options;
    this.#errors = options.metrics?.counter(
      "mercury_observe_registry_errors_total",
      "Failed model registry refreshes (MLflow down or a broken version)",
    );
  }

  /** The served version of `name`, if loaded. */
  get(name: string): LoadedModel | undefined {
    return this.#models.get(name);
  }

  /** A specific loaded version (A/B and shadow traffic), loading it on first use. */
  async version(name: string, version: string): Promise<LoadedModel> {
    const have = this.#versions.get(name)?.get(version);
    if (have) return have;
    const m = await loadVersion(this.#o.mlflow, await this.#o.mlflow.getVersion(name, version));
    this.#remember(m);
    return m;
  }

  /** A specific version if already loaded (never waits: the request path uses this). */
  loaded(name: string, version: string): LoadedModel | undefined {
    return this.#versions.get(name)?.get(version);
  }

  /** Every served model. */
  list(): LoadedModel[] {
    return [...this.#models.values()];
  }

  #remember(m: LoadedModel): void {
    if (!this.#versions.has(m.name)) this.#versions.set(m.name, new Map());
    this.#versions.get(m.name)!.set(m.version, m);
  }

  /**
   * Asks MLflow which version to serve for each name; loads new ones. Returns
   * the names that changed. A call while one runs joins it (a slow MLflow never
   * piles up requests).
   */
  refresh(): Promise<string[]> {
    this.#refreshing ??= this.#refresh().finally(() => (this.#refreshing = undefined));
    return this.#refreshing;
  }

  async #refresh(): Promise<string[]> {
    const changed: string[] = [];
    for (const name of this.#o.names) {
      try {
        const alias = this.#o.alias ?? "champion";
        const v = (await this.#o.mlflow.versionByAlias(name, alias)) ?? (await this.#o.mlflow.versions(name))[0];
        if (!v) continue;
        if (this.#models.get(name)?.version === v.version) continue;
        const m = this.#versions.get(name)?.get(v.version) ?? await loadVersion(this.#o.mlflow, v);
        this.#remember(m);
        this.#models.set(name, m);
        this.#o.onLoad?.(m);
        changed.push(name);
      } catch (err) {
        this.refreshErrors++;
        this.#errors?.inc();
        this.lastError = err instanceof MlflowError ? err.message : `${name}: ${(err as Error).message}`;
      }
    }
    return changed;
  }
}
