/**
 * Sources DuckDB cannot read itself here (its postgres and excel extensions
 * are not bundled and cannot be downloaded): rows are streamed in bounded
 * batches into a DuckDB temp table with the appender, never held whole in
 * JavaScript.
 *
 * @module
 */
import type { DuckDBAppender, DuckDBConnection } from "@duckdb/node-api";
import type { Sql } from "postgres";
import { MercuryError } from "@mercury/core/plugin";
import { quoteIdent, quoteLiteral } from "@mercury/core/sql";

type Kind = "BIGINT" | "DOUBLE" | "BOOLEAN" | "VARCHAR" | "TIMESTAMP" | "DATE";

/** DuckDB staging type per PostgreSQL type oid. */
function pgType(oid: number): Kind {
  if ([20, 21, 23, 26].includes(oid)) return "BIGINT";
  if ([700, 701, 1700].includes(oid)) return "DOUBLE";
  if (oid === 16) return "BOOLEAN";
  if (oid === 1082) return "DATE";
  if (oid === 1114 || oid === 1184) return "TIMESTAMP";
  return "VARCHAR";
}

function append(app: DuckDBAppender, kind: Kind, v: unknown): void {
  if (v === null || v === undefined) return app.appendNull();
  switch (kind) {
    case "BIGINT":
      return app.appendBigInt(BigInt(v as number | string | bigint));
    case "DOUBLE":
      return app.appendDouble(Number(v));
    case "BOOLEAN":
      return app.appendBoolean(Boolean(v));
    default:
      // DATE/TIMESTAMP are staged as text and cast by the view.
      return app.appendVarchar(
        v instanceof Date ? v.toISOString() : typeof v === "object" ? JSON.stringify(v) : String(v),
      );
  }
}

async function createStage(c: DuckDBConnection, table: string, cols: { name: string; kind: Kind }[]): Promise<void> {
  const defs = cols.map((x) =>
    `${quoteIdent(x.name)} ${x.kind === "DATE" || x.kind === "TIMESTAMP" ? "VARCHAR" : x.kind}`
  );
  await c.run(`create or replace temp table ${quoteIdent(table)} (${defs.join(", ")})`);
}

async function createView(c: DuckDBConnection, view: string, table: string, cols: { name: string; kind: Kind }[]) {
  const sel = cols.map((x) =>
    x.kind === "DATE" || x.kind === "TIMESTAMP"
      ? `cast(${quoteIdent(x.name)} as ${x.kind}) as ${quoteIdent(x.name)}`
      : quoteIdent(x.name)
  );
  await c.run(`create or replace temp view ${quoteIdent(view)} as select ${sel.join(", ")} from ${quoteIdent(table)}`);
}

/**
 * `postgres://user:pw@host:port/db?table=schema.t` or `?query=select …`:
 * a server-side cursor read `batchSize` rows at a time into DuckDB.
 */
export async function loadPostgres(
  c: DuckDBConnection,
  uri: string,
  view: string,
  opts: { batchSize: number },
): Promise<void> {
  const url = new URL(uri);
  const table = url.searchParams.get("table");
  const query = url.searchParams.get("query");
  if (!table && !query) {
    throw new MercuryError("usage", `a PostgreSQL source needs ?table=schema.t or ?query=…`, {
      where: "--source",
      hint: "e.g. postgres://mercury@127.0.0.1:55432/mercury?table=public.orders",
    });
  }
  url.search = "";
  const safe = uri.replace(/\/\/([^:/@]+):[^@/]*@/, "//$1:***@");
  const { default: postgres } = await import("postgres");
  const sql: Sql = postgres(url.toString(), { max: 1, connect_timeout: 5, onnotice: () => {} });
  const text = query ?? `select * from ${table!.split(".").map(quoteIdent).join(".")}`;
  const stage = `${view}_pg`;
  let cols: { name: string; kind: Kind }[] | undefined;
  let app: DuckDBAppender | undefined;
  try {
    // Column types first, from a zero-row describe, so an empty table still has its schema.
    const described = await sql.unsafe(`select * from (${text}) as q limit 0`).describe();
    cols = described.columns.map((col) => ({ name: col.name, kind: pgType(col.type) }));
    await createStage(c, stage, cols);
    app = await c.createAppender(stage, "main", "temp");
    for await (const rows of sql.unsafe(text).cursor(opts.batchSize)) {
      for (const row of rows) {
        for (const col of cols) append(app, col.kind, (row as Record<string, unknown>)[col.name]);
        app.endRow();
      }
      app.flushSync();
    }
    app.closeSync();
    app = undefined;
    await createView(c, view, stage, cols);
  } catch (err) {
    if (err instanceof MercuryError) throw err;
    const e = err as Error & { code?: string };
    const down = /ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ETIMEDOUT|CONNECT_TIMEOUT|connect/i.test(
      `${e.code} ${e.message}`,
    );
    const missing = e.code === "42P01" || e.code === "3D000";
    throw new MercuryError(
      down ? "unavailable" : missing ? "not_found" : "input",
      `cannot read ${safe}: ${e.message.split("\n")[0]}`,
      {
        where: safe,
        hint: down
          ? "is PostgreSQL running? (deno task services up)"
          : missing
          ? "check the table name (schema.table)"
          : "check the query",
        cause: err,
      },
    );
  } finally {
    try {
      app?.closeSync();
    } catch { /* already failed */ }
    await sql.end({ timeout: 2 });
  }
}

/** `kafka://topic?sample=N[&brokers=h:p]`: the first N JSON values of the topic. */
export async function loadKafka(
  c: DuckDBConnection,
  uri: string,
  view: string,
  opts: { sample: number },
): Promise<void> {
  const url = new URL(uri);
  const topic = decodeURIComponent(url.hostname || url.pathname.replace(/^\/+/, ""));
  const { connectKafka } = await import("@mercury/core/services/kafka");
  const brokers = url.searchParams.get("brokers")?.split(",");
  await using k = await connectKafka(brokers ? { brokers } : {});
  const offsets = await k.admin.fetchTopicOffsets(topic).catch((err: Error) => {
    throw new MercuryError("not_found", `cannot read kafka topic ${topic}: ${err.message}`, {
      where: uri,
      hint: "check the topic name",
      cause: err,
    });
  });
  const available = offsets.reduce((s, o) => s + Number(o.high) - Number(o.low), 0);
  const want = Math.min(opts.sample, available);
  const tmp = await Deno.makeTempFile({ suffix: ".ndjson" });
  try {
    const file = await Deno.open(tmp, { write: true });
    const enc = new TextEncoder();
    let got = 0;
    if (want > 0) {
      const consumer = k.kafka.consumer({ groupId: `mercury-quality-sample-${crypto.randomUUID()}` });
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      const done = Promise.withResolvers<void>();
      let bad: Error | undefined;
      const timer = setTimeout(() => done.resolve(), 30_000);
      await consumer.run({
        eachMessage: async ({ message }) => {
          if (got >= want) return;
          const text = message.value?.toString() ?? "null";
          try {
            JSON.parse(text);
          } catch {
            bad ??= new Error(`offset ${message.offset}: value is not JSON`);
          }
          got++;
          await file.write(enc.encode(text + "\n"));
          if (got >= want) done.resolve();
        },
      });
      await done.promise;
      clearTimeout(timer);
      await consumer.disconnect();
      if (bad) {
        throw new MercuryError("input", `cannot read kafka topic ${topic}: ${bad.message}`, {
          where: uri,
          hint: "the kafka source reads JSON values",
        });
      }
    }
    file.close();
    if (got === 0) {
      throw new MercuryError("input", `kafka topic ${topic} has no messages to sample`, { where: uri });
    }
    await c.run(
      `create or replace temp table ${quoteIdent(`${view}_kafka`)} as select * from read_json_auto(${
        quoteLiteral(tmp)
      })`,
    );
    await c.run(`create or replace temp view ${quoteIdent(view)} as select * from ${quoteIdent(`${view}_kafka`)}`);
  } finally {
    await Deno.remove(tmp).catch(() => {});
  }
}

/** An .xlsx sheet (first, or `?sheet=name`) through exceljs's streaming reader; row 1 holds the names. */
export async function loadExcel(c: DuckDBConnection, path: string, view: string, sheet?: string): Promise<void> {
  const ExcelJS = (await import("exceljs")).default;
  const stage = `${view}_xlsx`;
  let cols: { name: string; kind: Kind }[] | undefined;
  let app: DuckDBAppender | undefined;
  try {
    // exceljs's streaming WorkbookReader fails on workbooks whose zip lists the sheets before
    // workbook.xml ("reading 'sheets'"), so the workbook is read whole; a sheet holds at most
    // 1,048,576 rows, and rows go on to DuckDB through the appender.
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile(path);
    const ws = sheet ? wb.getWorksheet(sheet) ?? wb.getWorksheet(Number(sheet)) : wb.worksheets[0];
    if (ws) {
      for (let r = 1; r <= ws.rowCount; r++) {
        const row = ws.getRow(r);
        const values = (Array.isArray(row.values) ? row.values : []).slice(1).map((v) =>
          v && typeof v === "object" && "result" in (v as object) ? (v as { result: unknown }).result : v
        );
        if (!cols) {
          cols = values.map((v, i) => ({ name: String(v ?? `column${i + 1}`), kind: "VARCHAR" as Kind }));
          await createStage(c, stage, cols);
          app = await c.createAppender(stage, "main", "temp");
          continue;
        }
        for (let i = 0; i < cols.length; i++) {
          const v = values[i];
          append(app!, "VARCHAR", v instanceof Date ? v.toISOString() : v);
        }
        app!.endRow();
      }
    }
  } catch (err) {
    throw new MercuryError("input", `cannot read ${path} as Excel: ${(err as Error).message}`, {
      where: path,
      hint: "check that the file is an .xlsx workbook",
      cause: err,
    });
  }
  if (!cols || !app) {
    throw new MercuryError("input", `${path} has no sheet${sheet ? ` ${sheet}` : ""} with a header row`);
  }
  app.closeSync();
  // Cells are staged as text; DuckDB's CSV sniffer rules re-type them per column.
  const typed: string[] = [];
  for (const x of cols) {
    const q = quoteIdent(x.name);
    const r = await c.runAndReadAll(
      `select count(${q}) n, count(try_cast(${q} as bigint)) i, count(try_cast(${q} as double)) d, count(try_cast(${q} as timestamp)) t from ${
        quoteIdent(stage)
      }`,
    );
    const o = r.getRowObjects()[0]!;
    const n = Number(o.n);
    const kind = n > 0 && Number(o.i) === n
      ? "BIGINT"
      : n > 0 && Number(o.d) === n
      ? "DOUBLE"
      : n > 0 && Number(o.t) === n
      ? "TIMESTAMP"
      : "VARCHAR";
    typed.push(kind === "VARCHAR" ? q : `cast(${q} as ${kind}) as ${q}`);
  }
  await c.run(
    `create or replace temp view ${quoteIdent(view)} as select ${typed.join(", ")} from ${quoteIdent(stage)}`,
  );
}
