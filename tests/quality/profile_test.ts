import assert from "node:assert/strict";
import { openDuckDB } from "@mercury/core/services/duckdb";
import { profileRelation, profileSource, profileText } from "../../plugins/quality/profile/mod.ts";
import { ordersSql, writeOrdersParquet } from "../../plugins/quality/profile/sample_data.ts";
import { suggestSuite } from "../../plugins/quality/suggest.ts";
import { changeLines, diffProfiles } from "../../plugins/quality/diff.ts";

Deno.test("profileRelation() finds the planted problems of the orders data", async (t) => {
  using db = await openDuckDB();
  const dir = await Deno.makeTempDir();
  const path = `${dir}/orders.parquet`;
  await writeOrdersParquet(db.connection, path, 20_000);
  const p = await profileSource(path);
  const col = (n: string) => p.columns.find((c) => c.name === n)!;
  const one = async (sql: string) =>
    (await db.connection.runAndReadAll(sql.replace("T", `read_parquet('${path}')`))).getRowObjectsJson()[0]!;

  await t.step("counts equal DuckDB's exact answers", async () => {
    const truth = await one(
      `select count(*) n, count(*) - count(email) ne, count_if(country = '') ec, count(distinct customer_id) dc,
        min(amount) mn, max(amount) mx, avg(amount) av, stddev_samp(amount) sd from T`,
    );
    assert.equal(p.rows, 20_000);
    assert.equal(col("email").nullCount, Number(truth.ne));
    assert.ok(col("email").nullCount > 400 && col("email").nullCount < 800, "about 3 % null e-mails planted");
    assert.equal(col("country").emptyCount, Number(truth.ec));
    assert.equal(col("customer_id").distinct, Number(truth.dc));
    assert.equal(col("customer_id").distinctExact, true);
    assert.equal(col("amount").min, Number(truth.mn));
    assert.equal(col("amount").max, Number(truth.mx));
    assert.ok(Math.abs(col("amount").mean! - Number(truth.av)) < 1e-9);
    assert.ok(Math.abs(col("amount").stdev! - Number(truth.sd)) < 1e-9);
    assert.ok((col("amount").min as number) < 0, "negative amounts planted");
  });

  await t.step("semantic types and inferred types", () => {
    assert.equal(col("email").semanticType, "email");
    assert.ok(col("email").semanticShare < 1 && col("email").semanticShare > 0.95, "1 % malformed e-mails planted");
    assert.equal(col("product_url").semanticType, "url");
    assert.equal(col("session_id").semanticType, "uuid");
    assert.equal(col("phone").semanticType, "phone");
    assert.equal(col("ip").semanticType, "ip");
    assert.equal(col("order_date").semanticType, "date");
    assert.equal(col("status").semanticType, null);
    assert.equal(col("quantity").inferredType, "integer");
    assert.equal(col("amount").inferredType, "float");
    assert.equal(col("phone").patterns[0]!.pattern, "+9 9-9-9");
  });

  await t.step("histograms cover every non-null value; top values are exact", async () => {
    for (const c of p.columns.filter((c) => c.histogram.length)) {
      assert.equal(c.histogram.reduce((s, b) => s + b.count, 0), p.rows - c.nullCount, c.name);
    }
    const truth = await one(`select count(*) n from T where status = 'paid'`);
    assert.equal(col("status").topK.find((x) => x.value === "paid")!.count, Number(truth.n));
    assert.equal(col("status").topK.length, 5);
    assert.deepEqual(col("session_id").topK, [], "near-unique columns get no top values");
  });

  await t.step("correlations equal DuckDB's corr()", async () => {
    const truth = await one(`select corr(amount, score) r from T`);
    const r = p.correlations.find((c) => c.a === "amount" && c.b === "score")!.r!;
    assert.ok(Math.abs(r - Number(truth.r)) < 1e-9);
    assert.ok(r > 0.1, "score is built from amount's draw");
  });

  await t.step(
    "above exactDistinctRows, hash-sketch estimates within 5 % (exact when the sample is the data)",
    async () => {
      const whole = await profileRelation(db.connection, `read_parquet('${path}')`, { exactDistinctRows: 100 });
      const w = whole.columns.find((c) => c.name === "customer_id")!;
      assert.equal(w.distinctExact, true, "a 20,000-row source is its own sample: counted exactly");
      assert.equal(w.distinct, col("customer_id").distinct);
      // 200,000 rows: the sample is half of the data; small sketches force estimates.
      await db.connection.run(`create temp table sketch_orders as ${ordersSql(200_000)}`);
      const big = "sketch_orders";
      const truth = (await db.connection.runAndReadAll(
        `select count(distinct customer_id) c, count(distinct email) e, count(distinct ip) i from ${big}`,
      )).getRowObjectsJson()[0]!;
      const approx = await profileRelation(db.connection, big, { exactDistinctRows: 100, sketchSize: 4096 });
      for (const [name, k] of [["customer_id", "c"], ["email", "e"], ["ip", "i"]] as const) {
        const a = approx.columns.find((c) => c.name === name)!;
        assert.equal(a.distinctExact, false, name);
        const err = Math.abs(a.distinct - Number(truth[k])) / Number(truth[k]);
        assert.ok(err < 0.05, `${name}: ${a.distinct} vs exact ${truth[k]}`);
      }
    },
  );

  await t.step("suggestions catch the planted problems as Deequ would", () => {
    const suite = suggestSuite(p, { name: "orders" });
    const find = (type: string, column: string) =>
      suite.expectations.find((e) => e.type === type && e.kwargs.column === column);
    assert.ok(find("expect_column_values_to_not_be_null", "order_id"));
    const mostly = find("expect_column_values_to_not_be_null", "email")!.kwargs.mostly!;
    assert.equal(mostly, Math.floor((1 - col("email").nullShare) * 100) / 100, "observed completeness, rounded down");
    assert.ok(mostly >= 0.95 && mostly < 0.98);
    assert.deepEqual(find("expect_column_values_to_be_in_set", "status")!.kwargs.value_set, [
      "delivered",
      "new",
      "paid",
      "returned",
      "shipped",
    ]);
    assert.equal(find("expect_column_values_to_be_unique", "order_id"), undefined, "duplicate ids planted");
    assert.ok(find("expect_column_values_to_be_unique", "session_id"));
    assert.equal(find("expect_column_min_to_be_between", "amount"), undefined, "negative amounts planted");
    assert.ok(find("expect_column_values_to_match_regex", "email"));
  });

  await t.step("diffProfiles() sees a shifted copy", async () => {
    await db.connection.run(
      `copy (select * replace (case when order_id % 5 = 0 then null else email end as email) from (${
        ordersSql(20_000)
      })) to '${dir}/b.parquet' (format parquet)`,
    );
    const q = await profileSource(`${dir}/b.parquet`);
    const lines = changeLines(diffProfiles(p, q));
    assert.ok(lines.some((l) => l.startsWith("~ email.nullShare")), lines.join("\n"));
    assert.ok(!lines.some((l) => l.startsWith("~ amount.")), lines.join("\n"));
  });

  assert.match(profileText(p)[0]!, /20000 rows, 20 columns/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("profileSource() names a missing file and an unknown format in one line", async () => {
  await assert.rejects(() => profileSource("/nonexistent/x.parquet"), /cannot read \/nonexistent\/x.parquet/);
  await assert.rejects(() => profileSource("data.xyz"), /cannot tell how to read data.xyz/);
});

Deno.test("the profile agrees with the benchmark's peer, DuckDB SUMMARIZE, on counts, nulls, min, max and mean", async () => {
  using db = await openDuckDB();
  const rel = `(${ordersSql(5_000, 3)})`;
  await db.connection.run(`create table t as select * from ${rel}`);
  const p = await profileRelation(db.connection, "t");
  const peer = (await db.connection.runAndReadAll("summarize t")).getRowObjectsJson();
  assert.equal(peer.length, p.columns.length);
  for (const s of peer) {
    const c = p.columns.find((x) => x.name === s.column_name)!;
    assert.equal(Number(s.count), p.rows, c.name);
    assert.ok(Math.abs(Number(s.null_percentage) - c.nullShare * 100) < 0.01, `${c.name} null %`);
    if (typeof c.min === "number") {
      assert.equal(Number(s.min), c.min, `${c.name} min`);
      assert.equal(Number(s.max), c.max, `${c.name} max`);
      if (s.avg !== null && c.duckdbType !== "BOOLEAN") {
        assert.ok(Math.abs(Number(s.avg) - c.mean!) < 1e-6 * Math.max(1, Math.abs(c.mean!)), `${c.name} mean`);
      }
    }
  }
});

Deno.test("categorical columns: statistics from exact value counts equal DuckDB's aggregates", async () => {
  using db = await openDuckDB();
  // 3,000 rows, every column with few values (categorical): text with blanks, accents, an emoji and a
  // code point above U+FFFF that JS's `<` would order before U+FFxx; numbers with a skew; booleans.
  await db.connection.run(`create table t as select
      (['b', '  ', '', 'é', '😀', 'ｚ', 'Zed', null])[1 + (range * 7 % 8)::int] as s,
      case when range % 11 = 0 then null else (range * range % 37)::int end as k,
      ((range % 13) * 0.25)::double as x,
      range % 3 = 0 as flag
    from range(3000)`);
  const p = await profileRelation(db.connection, "t");
  const col = (n: string) => p.columns.find((c) => c.name === n)!;
  const truth = (await db.connection.runAndReadAll(`select
      count(distinct s) sd, count_if(trim(s) = '') sb, min(s) smin, max(s) smax,
      min(length(s)) slmin, max(length(s)) slmax, avg(length(s)) slmean,
      count(distinct k) kd, avg(k) kmean, stddev_samp(k) ksd, quantile_cont(k, [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99]) kq,
      avg(x) xmean, stddev_samp(x) xsd, quantile_cont(x, [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99]) xq,
      avg(flag::int) fmean
    from t`)).getRowObjectsJson()[0]!;
  const close = (a: number | null, b: unknown, what: string) =>
    assert.ok(a !== null && Math.abs(a - Number(b)) <= 1e-9 * Math.max(1, Math.abs(a)), `${what}: ${a} vs ${b}`);
  assert.equal(col("s").distinct, Number(truth.sd));
  assert.equal(col("s").distinctExact, true);
  assert.equal(col("s").emptyCount, Number(truth.sb));
  assert.equal(col("s").min, truth.smin);
  assert.equal(col("s").max, truth.smax);
  assert.deepEqual(col("s").length, {
    min: Number(truth.slmin),
    max: Number(truth.slmax),
    mean: col("s").length!.mean,
  });
  close(col("s").length!.mean, truth.slmean, "s length mean");
  assert.equal(col("k").distinct, Number(truth.kd));
  close(col("k").mean, truth.kmean, "k mean");
  close(col("k").stdev, truth.ksd, "k stdev");
  (truth.kq as number[]).forEach((q, i) => close(col("k").quantiles[i]!.value, q, `k q${i}`));
  close(col("x").mean, truth.xmean, "x mean");
  close(col("x").stdev, truth.xsd, "x stdev");
  (truth.xq as number[]).forEach((q, i) => close(col("x").quantiles[i]!.value, q, `x q${i}`));
  close(col("flag").mean, truth.fmean, "flag mean");
});
