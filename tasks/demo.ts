/**
 * `deno task demo`: the main job. Starts the services, then runs a short
 * end-to-end check through every one of them — events through Kafka into
 * PostgreSQL, a lookup table in Redis, and DuckDB summarising the result.
 *
 * @module
 */
import { main, MercuryError } from "@mercury/core";
import { connectKafka } from "@mercury/core/services/kafka";
import { connectPostgres } from "@mercury/core/services/postgres";
import { connectRedis } from "@mercury/core/services/redis";
import { withDuckDB } from "@mercury/core/services/duckdb";

async function servicesUp(): Promise<void> {
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("./services.ts", import.meta.url).pathname, "up"],
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (r.code !== 0) throw new MercuryError("unavailable", "services did not come up", { hint: "see the line above" });
}

if (import.meta.main) {
  await main(async () => {
    await servicesUp();
    const t0 = performance.now();
    const run = `demo_${Date.now().toString(36)}`;
    const kafka = await connectKafka();
    const pg = await connectPostgres();
    const redis = await connectRedis();
    try {
      // 1. A dimension table in Redis.
      await redis.client.hset(`${run}:tier`, { alice: "gold", bob: "silver", carol: "gold" });
      // 2. Events through Kafka.
      const topic = `mercury_${run}`;
      await kafka.admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
      const users = ["alice", "bob", "carol"];
      const producer = kafka.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      const events = Array.from({ length: 3000 }, (_, i) => ({ user: users[i % 3]!, amount: (i % 50) + 1 }));
      await producer.send({ topic, messages: events.map((e) => ({ key: e.user, value: JSON.stringify(e) })) });
      await producer.disconnect();
      // 3. Consume, enrich from Redis, and write to PostgreSQL in one transaction.
      const consumer = kafka.kafka.consumer({ groupId: run });
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      const tiers = await redis.client.hgetall(`${run}:tier`);
      const rows: { user: string; tier: string; amount: number }[] = [];
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new MercuryError("timeout", "demo consumer got too few events")), 30000);
        consumer.run({
          eachMessage: ({ message }) => {
            const e = JSON.parse(message.value!.toString()) as { user: string; amount: number };
            rows.push({ ...e, tier: tiers[e.user] ?? "unknown" });
            if (rows.length === events.length) {
              clearTimeout(timer);
              resolve();
            }
            return Promise.resolve();
          },
        }).catch(reject);
      });
      await consumer.disconnect();
      await pg.sql`create table if not exists demo_events (run text, "user" text, tier text, amount int)`;
      await pg.sql.begin((tx) => tx`insert into demo_events ${tx(rows.map((r) => ({ run, ...r })))}`);
      // 4. DuckDB summarises what PostgreSQL holds.
      const stored = await pg.sql`select "user", tier, amount from demo_events where run = ${run}`;
      const summary = await withDuckDB(async (c) => {
        await c.run(`create table e ("user" varchar, tier varchar, amount int)`);
        const app = await c.createAppender("e");
        for (const r of stored) {
          app.appendVarchar(r.user);
          app.appendVarchar(r.tier);
          app.appendInteger(r.amount);
          app.endRow();
        }
        app.closeSync();
        const res = await c.runAndReadAll(
          `select tier, count(*)::int as events, sum(amount)::int as total from e group by tier order by tier`,
        );
        return res.getRowObjects();
      });
      console.log(`\nKafka → Redis enrichment → PostgreSQL → DuckDB (${events.length} events, topic ${topic}):`);
      console.table(summary);
      const total = summary.reduce((s, r) => s + Number(r.total), 0);
      const expected = events.reduce((s, e) => s + e.amount, 0);
      if (total !== expected) throw new MercuryError("internal", `demo totals differ: ${total} ≠ ${expected}`);
      console.log(`end-to-end check passed in ${((performance.now() - t0) / 1000).toFixed(1)}s`);
      await kafka.admin.deleteTopics({ topics: [topic] });
      await kafka.admin.deleteGroups([run]).catch(() => {});
      await pg.sql`delete from demo_events where run = ${run}`;
      await redis.client.del(`${run}:tier`);
    } finally {
      await kafka.close();
      await pg.close();
      await redis.close();
    }
  });
}
