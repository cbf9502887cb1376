/**
 * `getOnlineFeatures`: the latest values of a feature service or a feature
 * list for one or many entities, from the online store, with on-demand
 * transforms, a status per value (PRESENT, NULL_VALUE, NOT_FOUND,
 * OUTSIDE_MAX_AGE, like Feast) and its event time, plus Prometheus metrics.
 *
 * @module
 */
import { MercuryError, withTimeout } from "@mercury/core";
import {
  type FeatureRepo,
  type FeatureView,
  type OnDemandFeatureView,
  parseRef,
  type ValueType,
} from "./definitions.ts";
import { entityKey } from "./entity_key.ts";
import type { OnlineStore } from "./online_store.ts";
import {
  checkColumn,
  checkEntityCount,
  checkRequestShape,
  DEFAULT_MAX_ENTITIES,
  DEFAULT_STORE_TIMEOUT_MS,
} from "./online_request.ts";

export { DEFAULT_STORE_TIMEOUT_MS, type ServingMetrics, servingMetrics };
import { type ServingMetrics, servingMetrics } from "./serving_metrics.ts";
import { authorizePii, type Caller, type PiiAccess, piiFeatures, piiViewsOf } from "./pii.ts";
import { expandRefs, groupRefsByView } from "./validate.ts";

/** A request, in Feast's columnar shape. */
export interface OnlineRequest {
  /** Feature references `view:feature` (or `view:*`). */
  features?: string[];
  /** Or a feature service name. */
  featureService?: string;
  /** Join key → one value per entity. */
  entities: Record<string, (string | number)[]>;
  /** Request-time inputs of on-demand views: field → one value per entity. */
  requestData?: Record<string, unknown[]>;
  /** Name features `view__feature` (default `view:feature` refs are reported as given). */
  fullFeatureNames?: boolean;
}

/** A value's status. */
export type FeatureStatus = "PRESENT" | "NULL_VALUE" | "NOT_FOUND" | "OUTSIDE_MAX_AGE";

/** One column of the answer: a join key or a feature, one entry per entity. */
export interface OnlineColumn {
  values: unknown[];
  statuses: FeatureStatus[];
  /** Event time of the value (epoch ms), or null. */
  eventTimestamps: (number | null)[];
}

/** The answer. */
export interface OnlineResponse {
  metadata: { featureNames: string[] };
  results: OnlineColumn[];
}

interface Resolved {
  views: { view: FeatureView; features: string[]; types: ValueType[]; keys: string[]; outNames: string[] }[];
  odfvs: { odfv: OnDemandFeatureView; outNames: string[] }[];
  joinKeys: string[];
  /** The declared type of each join key (its entity's valueType). */
  keyTypes: ValueType[];
  names: string[];
  /** The PII features the request asks for (`view:feature`) and the views whose scope each needs. */
  pii: { ref: string; views: string[] }[];
}

/** Options of {@linkcode FeatureServer}. */
export interface FeatureServerOptions {
  metrics?: ServingMetrics;
  now?: () => number;
  /** Entities one request may ask for (default {@linkcode DEFAULT_MAX_ENTITIES}, 10,000). */
  maxEntities?: number;
  /**
   * How long a read from the online store may take before the request fails with a `timeout` error (HTTP 504, gRPC
   * UNAVAILABLE), so a stalled Redis cannot hang every request (default {@linkcode DEFAULT_STORE_TIMEOUT_MS}).
   */
  storeTimeoutMs?: number;
  /** Where requests for PII features are recorded (granted or refused); see `pii.ts`. */
  piiLog?: { record(access: PiiAccess): void };
}

/**
 * Answers online requests from a repo's definitions and an online store.
 * Entity keys and request data are checked against their declared types, and
 * a request may ask for at most `maxEntities` entities.
 *
 * @example
 * ```ts ignore
 * const server = new FeatureServer(repo, new RedisOnlineStore(redis.client, onlinePrefix("fraud", "dev")));
 * const res = await server.getOnlineFeatures({ featureService: "fraud_v1", entities: { card_id: [1, 2] } });
 * ```
 */
export class FeatureServer {
  readonly repo: FeatureRepo;
  readonly store: OnlineStore;
  readonly metrics: ServingMetrics;
  readonly now: () => number;
  readonly maxEntities: number;
  readonly storeTimeoutMs: number;
  readonly piiLog?: { record(access: PiiAccess): void };
  #cache = new Map<string, Resolved>();
  #pii: Set<string>;

  constructor(repo: FeatureRepo, store: OnlineStore, options: FeatureServerOptions = {}) {
    this.repo = repo;
    this.store = store;
    this.metrics = options.metrics ?? servingMetrics();
    this.now = options.now ?? Date.now;
    this.maxEntities = options.maxEntities ?? DEFAULT_MAX_ENTITIES;
    this.storeTimeoutMs = options.storeTimeoutMs ?? DEFAULT_STORE_TIMEOUT_MS;
    this.piiLog = options.piiLog;
    this.#pii = piiFeatures(repo);
  }

  #resolve(req: OnlineRequest): Resolved {
    const cacheKey = req.featureService
      ? `s:${req.featureService}:${req.fullFeatureNames}`
      : Array.isArray(req.features) && req.features.length > 0
      ? `f:${req.fullFeatureNames}:${req.features.join(",")}`
      : undefined;
    const hit = cacheKey ? this.#cache.get(cacheKey) : undefined;
    if (hit) return hit;
    let refs: string[];
    if (req.featureService) {
      const s = (this.repo.services ?? []).find((x) => x.name === req.featureService);
      if (!s) {
        throw new MercuryError("not_found", `no feature service "${req.featureService}"`, {
          where: "featureService",
          hint: `services: ${(this.repo.services ?? []).map((x) => x.name).join(", ") || "none"}`,
        });
      }
      refs = s.features;
    } else if (Array.isArray(req.features) && req.features.length > 0) {
      refs = req.features;
    } else {
      throw new MercuryError("input", "the request names no features", {
        where: "features",
        hint: 'send features: ["view:feature", …] or featureService',
      });
    }
    const expanded = expandRefs(refs, this.repo.views, this.repo.onDemandViews ?? [], "request");
    const { views, odfvs } = groupRefsByView(expanded, this.repo.views, this.repo.onDemandViews ?? []);
    const names: string[] = [];
    const out = (view: string, f: string) => (req.fullFeatureNames ? `${view}__${f}` : f);
    const resolved: Resolved = { views: [], odfvs: [], joinKeys: [], keyTypes: [], names, pii: [] };
    for (const [view, feats] of views) {
      const ents = view.entities.map((e) => this.repo.entities.find((x) => x.name === e)!);
      const keys = ents.map((e) => e.joinKey);
      for (const e of ents) {
        if (resolved.joinKeys.includes(e.joinKey)) continue;
        resolved.joinKeys.push(e.joinKey);
        resolved.keyTypes.push(e.valueType);
      }
      const requested = feats.filter((f) => expanded.includes(`${view.name}:${f}`));
      resolved.views.push({
        view,
        features: feats,
        types: feats.map((f) => view.features.find((x) => x.name === f)!.type),
        keys,
        outNames: feats.map((f) => (requested.includes(f) ? out(view.name, f) : "")),
      });
    }
    for (const [odfv, feats] of odfvs) {
      resolved.odfvs.push({
        odfv,
        outNames: odfv.features.map((f) => (feats.includes(f.name) ? out(odfv.name, f.name) : "")),
      });
    }
    for (const v of resolved.views) {
      for (const [i, f] of v.features.entries()) {
        const ref = `${v.view.name}:${f}`;
        if (v.outNames[i] && this.#pii.has(ref)) resolved.pii.push({ ref, views: [v.view.name] });
      }
    }
    for (const o of resolved.odfvs) {
      for (const [i, f] of o.odfv.features.entries()) {
        const ref = `${o.odfv.name}:${f.name}`;
        if (o.outNames[i] && this.#pii.has(ref)) resolved.pii.push({ ref, views: piiViewsOf(this.repo, ref) });
      }
    }
    names.push(...resolved.joinKeys);
    for (const v of resolved.views) names.push(...v.outNames.filter(Boolean));
    for (const o of resolved.odfvs) names.push(...o.outNames.filter(Boolean));
    // Bounded: a client sending ever-new feature lists cannot grow it without limit.
    if (cacheKey && this.#cache.size < 1000) this.#cache.set(cacheKey, resolved);
    return resolved;
  }

  /** PII features need a caller whose token carries their scope; every such request is recorded. */
  #checkPii(req: OnlineRequest, r: Resolved, transport: string, caller: Caller | undefined): void {
    const first = req.entities?.[r.joinKeys[0] ?? ""];
    authorizePii(r.pii, caller, {
      log: this.piiLog,
      transport,
      entities: Array.isArray(first) ? first.length : 0,
    });
  }

  /**
   * Answers one request; bad input (a wrong shape, a value not of its declared type, more than `maxEntities`
   * entities) is a MercuryError (`input`/`not_found`) naming the field and row, checked before any lookup.
   */
  async getOnlineFeatures(req: OnlineRequest, transport = "library", caller?: Caller): Promise<OnlineResponse> {
    const t0 = performance.now();
    checkRequestShape(req);
    const r = this.#resolve(req);
    if (r.pii.length) this.#checkPii(req, r, transport, caller);
    let n = -1;
    for (const k of r.joinKeys) {
      const vals = req.entities[k];
      if (!Array.isArray(vals)) {
        throw new MercuryError("input", `the request is missing entity key "${k}"`, {
          where: `entities.${k}`,
          hint: `the features asked for join on ${r.joinKeys.join(", ")}`,
        });
      }
      if (n >= 0 && vals.length !== n) {
        throw new MercuryError("input", `entity key "${k}" has ${vals.length} values, others have ${n}`, {
          where: `entities.${k}`,
        });
      }
      n = vals.length;
      checkEntityCount(n, this.maxEntities);
    }
    n = Math.max(n, 0);
    for (const [i, k] of r.joinKeys.entries()) checkColumn(`entities.${k}`, req.entities[k]!, r.keyTypes[i]!, false);
    for (const { odfv } of r.odfvs) {
      for (const field of odfv.request) {
        const vals = req.requestData?.[field.name];
        if (!Array.isArray(vals) || vals.length !== n) {
          throw new MercuryError(
            "input",
            `on-demand view "${odfv.name}" needs request field "${field.name}" (${n} values)`,
            { where: `requestData.${field.name}` },
          );
        }
        checkColumn(`requestData.${field.name}`, vals, field.type, true);
      }
    }
    const now = this.now();
    const results: OnlineColumn[] = [];
    const statuses: Record<FeatureStatus, number> = { PRESENT: 0, NULL_VALUE: 0, NOT_FOUND: 0, OUTSIDE_MAX_AGE: 0 };
    const staleness = new Map<string, number[]>();
    for (const k of r.joinKeys) {
      const vals = req.entities[k]!;
      results.push({ values: vals, statuses: vals.map(() => "PRESENT"), eventTimestamps: vals.map(() => null) });
    }
    // Raw decoded values per view feature, for the on-demand transforms.
    const byFeature = new Map<string, unknown[]>();
    const hits = await Promise.all(r.views.map((v) => {
      const keys: string[] = new Array(n);
      for (let i = 0; i < n; i++) {
        // One key is its text; several go through the unambiguous encoding materialisation wrote.
        keys[i] = v.keys.length === 1
          ? String(req.entities[v.keys[0]!]![i])
          : entityKey(v.keys.map((k) => req.entities[k]![i]));
      }
      return withTimeout(
        this.store.read(v.view.name, keys, v.features),
        this.storeTimeoutMs,
        `reading feature view "${v.view.name}" from the online store`,
      );
    }));
    for (const [vi, v] of r.views.entries()) {
      const h = hits[vi]!;
      const ttlMs = v.view.ttlSeconds * 1000;
      const ages: number[] = [];
      for (const [fi, f] of v.features.entries()) {
        const col: OnlineColumn = { values: new Array(n), statuses: new Array(n), eventTimestamps: new Array(n) };
        for (let i = 0; i < n; i++) {
          const hit = h[i]!;
          if (hit.eventMs === null) {
            col.values[i] = null;
            col.statuses[i] = "NOT_FOUND";
            col.eventTimestamps[i] = null;
            continue;
          }
          const raw = hit.values[fi] ?? null;
          col.values[i] = raw;
          col.eventTimestamps[i] = hit.eventMs;
          col.statuses[i] = ttlMs > 0 && now - hit.eventMs > ttlMs
            ? "OUTSIDE_MAX_AGE"
            : raw === null
            ? "NULL_VALUE"
            : "PRESENT";
          if (fi === 0) ages.push((now - hit.eventMs) / 1000);
        }
        if (ttlMs > 0) {
          for (let i = 0; i < n; i++) if (col.statuses[i] === "OUTSIDE_MAX_AGE") col.values[i] = null;
        }
        byFeature.set(`${v.view.name}:${f}`, col.values);
        if (v.outNames[fi]) {
          results.push(col);
          let notFound = 0, outside = 0;
          for (const s of col.statuses) {
            statuses[s]++;
            if (s === "NOT_FOUND") notFound++;
            else if (s === "OUTSIDE_MAX_AGE") outside++;
          }
          this.metrics.observeFeature(`${v.view.name}:${f}`, n, notFound, outside);
        }
      }
      if (ages.length) staleness.set(v.view.name, ages);
    }
    for (const { odfv, outNames } of r.odfvs) {
      const cols: OnlineColumn[] = odfv.features.map(() => ({
        values: new Array(n),
        statuses: new Array(n),
        eventTimestamps: new Array(n).fill(null),
      }));
      for (let i = 0; i < n; i++) {
        const row: Record<string, unknown> = {};
        for (const input of odfv.inputs) row[parseRef(input).feature] = byFeature.get(input)?.[i] ?? null;
        for (const field of odfv.request) row[field.name] = req.requestData![field.name]![i];
        let out: Record<string, unknown>;
        try {
          out = odfv.transform(row);
        } catch (err) {
          throw new MercuryError("internal", `on-demand view "${odfv.name}" failed: ${(err as Error).message}`, {
            where: `on-demand feature view "${odfv.name}".transform`,
            cause: err,
          });
        }
        for (const [fi, f] of odfv.features.entries()) {
          // NaN and ±Infinity have no JSON form (they would be served as null marked PRESENT).
          const v = typeof out[f.name] === "number" && !Number.isFinite(out[f.name]) ? null : out[f.name];
          cols[fi]!.values[i] = v ?? null;
          cols[fi]!.statuses[i] = v === null || v === undefined ? "NULL_VALUE" : "PRESENT";
        }
      }
      for (const [fi, col] of cols.entries()) {
        if (!outNames[fi]) continue;
        results.push(col);
        for (const s of col.statuses) statuses[s]++;
      }
    }
    this.metrics.observe(transport, (performance.now() - t0) / 1000, statuses, staleness);
    return { metadata: { featureNames: r.names }, results };
  }
}
