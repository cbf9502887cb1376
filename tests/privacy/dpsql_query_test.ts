import assert from "node:assert/strict";
import { MercuryError } from "@mercury/core";
import { openDuckDB } from "@mercury/core/services/duckdb";
import { dpQuery } from "@mercury/privacy/dpsql";
import { Ledger } from "@mercury/privacy/ledger";

async function withTable(fn: (c: import("@duckdb/node-api").DuckDBConnection) => Promise<void>): Promise<void> {
  using db = await openDuckDB();
  const c = db.connection;
  // 1,000 people with 30 visits each over three regions, plus one person alone in a region.
  await c.run(`create table visits as select i % 1000 as pid,
    case i % 3 when 0 then 'north' when 1 then 'south' else 'east' end as region,
    (i % 97)::double as cost, 20 + i % 60 as age from range(30000) r(i)`);
  await c.run(`insert into visits values (99999, 'secret-region', 5, 40)`);
  await fn(c);
}

const v = (x: unknown) => (x as { value: number }).value;

Deno.test("dpQuery() answers count/sum/avg/quantile per group near the truth, with CIs and its cost", async () => {
  await withTable(async (c) => {
    const a = await dpQuery(
      c,
      "select region, count(*) as n, sum(cost), avg(cost), quantile(cost, 0.5) as med from visits where age > 30 group by region",
      {
        epsilon: 2,
        delta: 1e-6,
        privacyUnit: "pid",
        bounds: { cost: [0, 100] },
        maxRowsPerUnit: 10,
        maxGroupsPerUnit: 3,
      },
    );
    assert.deepEqual(a.columns, ["region", "n", "sum(cost)", "avg(cost)", "med"]);
    assert.deepEqual(a.rows.map((r) => r.region).sort(), ["east", "north", "south"]);
    assert.equal(a.epsilon, 2);
    assert.equal(a.delta, 1e-6);
    // count (selection), sum, the centred sum and count of avg, the median.
    assert.deepEqual(a.measurements, ["count", "sum:cost", "csum:cost", "count:cost", "quantile:cost:0.5"]);
    // Each person has exactly 10 visits per region, so the bounds keep every row: the truth is the plain query's.
    const truth = new Map(
      (await c.runAndReadAll("select region, count(*) as n from visits where age > 30 group by region"))
        .getRowObjects().map((r) => [String(r.region), Number(r.n)]),
    );
    for (const r of a.rows) {
      const n = r.n as { value: number; ci: [number, number]; scale: number };
      assert.ok(n.ci[0] <= n.value && n.value <= n.ci[1]);
      // Laplace noise beyond 8 scales has probability e^−8 ≈ 3e-4.
      assert.ok(
        Math.abs(n.value - truth.get(String(r.region))!) < 8 * n.scale,
        `count ${n.value} vs ${truth.get(String(r.region))}`,
      );
      assert.ok(Math.abs(v(r["avg(cost)"]) - 48) < 10, `avg ${v(r["avg(cost)"])}`);
      assert.ok(Math.abs(v(r.med) - 48) < 6, `median ${v(r.med)}`);
    }
    assert.match(a.sql, /row_number\(\) over \(partition by "pid", "region"/);
  });
});

Deno.test("dpQuery() without GROUP BY is pure ε-DP and accurate on 30,000 rows", async () => {
  await withTable(async (c) => {
    const a = await dpQuery(c, "select count(*), avg(cost) from visits", { epsilon: 1, bounds: { cost: [0, 100] } });
    assert.equal(a.delta, 0);
    assert.equal(a.rows.length, 1);
    assert.ok(Math.abs(v(a.rows[0]!.count) - 30001) < 60);
    assert.ok(Math.abs(v(a.rows[0]!["avg(cost)"]) - 47.97) < 0.5);
  });
});

Deno.test("dpQuery() refuses unsupported SQL, unbounded columns and bad ε/δ with one clear line", async () => {
  await withTable(async (c) => {
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ["select count(*) from visits a join visits b using (pid)", {}, /does not support joins/],
      ["select count(*) from visits order by 1", {}, /does not support ORDER BY/],
      ["select cost from visits", {}, /must be aggregated or appear in GROUP BY/],
      ["select max(cost) from visits", {}, /does not support the function max\(\)/],
      ["select sum(cost) from visits", {}, /'cost' cannot be bounded without user bounds/],
      ["select count(*) from visits where pid in (select 1)", {}, /subqueries in WHERE/],
      ["select count(*) from visits", { epsilon: 0 }, /epsilon must be a finite number > 0/],
      ["select count(*) from visits", { epsilon: -1 }, /epsilon must be a finite number > 0/],
      ["select region, count(*) from visits group by region", { delta: 1 }, /delta must lie in \(0, 1\)/],
      ["select count(*) from visits", { privacyUnit: "nobody" }, /privacy unit column 'nobody' is not in visits/],
      ["selec count(*) from visits", {}, /cannot parse the DP SQL query/],
    ];
    for (const [sql, opts, re] of cases) {
      await assert.rejects(
        dpQuery(c, sql, { epsilon: 1, ...opts }),
        (e: unknown) => e instanceof MercuryError && e.code === "usage" && re.test(e.message) && !!e.hint,
        sql,
      );
    }
  });
});

Deno.test("dpQuery() drops a group only one person is in (partition selection)", async () => {
  await withTable(async (c) => {
    for (let i = 0; i < 20; i++) {
      const a = await dpQuery(c, "select region, count(*) from visits group by region", {
        epsilon: 1,
        privacyUnit: "pid",
        maxRowsPerUnit: 30,
      });
      assert.ok(!a.rows.some((r) => r.region === "secret-region"));
      assert.ok(a.threshold! > 30);
    }
  });
});

Deno.test("dpQuery() charges the ledger and is refused once the budget is spent", async () => {
  const schema = `privacy_test_${crypto.randomUUID().slice(0, 8)}`;
  const ledger = await Ledger.open({ schema });
  try {
    await ledger.setBudget("visits", { epsilon: 1.5, delta: 1e-5 });
    await withTable(async (c) => {
      const charge = { ledger, dataset: "visits", analyst: "ada" };
      await dpQuery(c, "select count(*) from visits", { epsilon: 1, ledger: charge });
      await assert.rejects(
        dpQuery(c, "select count(*) from visits", { epsilon: 1, ledger: charge }),
        (e: unknown) => e instanceof MercuryError && /budget exhausted/.test(e.message),
      );
      // A query that fails after the check (unknown column) leaves no entry.
      await assert.rejects(dpQuery(c, "select count(*) from visits where nope > 1", { epsilon: 0.1, ledger: charge }));
      const entries = await ledger.entries("visits");
      assert.equal(entries.length, 1);
      assert.equal(entries[0]!.query, "select count(*) from visits");
    });
  } finally {
    await ledger.dropSchema();
    await ledger.close();
  }
});

Deno.test("dpQuery() with public keys releases exactly those groups, pure ε-DP", async () => {
  await withTable(async (c) => {
    const a = await dpQuery(c, "select region, count(*) as n, avg(cost) from visits group by region", {
      epsilon: 1,
      bounds: { cost: [0, 100] },
      privacyUnit: "pid",
      maxRowsPerUnit: 10,
      maxGroupsPerUnit: 3,
      keys: { region: ["north", "west"] },
    });
    assert.equal(a.delta, 0);
    assert.equal(a.threshold, undefined);
    assert.deepEqual(a.rows.map((r) => r.region), ["north", "west"]);
    // Laplace noise beyond 8 scales has probability e^−8; every person has 10 visits in the north.
    const scale = (a.rows[0]!.n as { scale: number }).scale;
    assert.ok(Math.abs(v(a.rows[1]!.n)) < 8 * scale, `west (no rows) ${v(a.rows[1]!.n)}`);
    assert.ok(Math.abs(v(a.rows[0]!.n) - 10000) < 8 * scale, `north ${v(a.rows[0]!.n)}`);
    await assert.rejects(
      dpQuery(c, "select region, sex, count(*) from (select *, 'x' as sex from visits) group by region, sex", {
        epsilon: 1,
        keys: { region: ["north"] },
      }),
      /DP SQL does not support FROM|public keys must list every GROUP BY column/,
    );
  });
});
