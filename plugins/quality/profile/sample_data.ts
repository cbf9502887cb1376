/**
 * A seeded, real-looking customer-orders table with planted problems, written
 * by DuckDB from `range()` (no JavaScript rows): the profile benchmark's
 * 20-column data and the notebook's data set.
 *
 * Planted problems (share of rows): null e-mails (3 %), malformed e-mails
 * (1 %), empty country (2 %), negative amounts (0.5 %), duplicate order ids
 * (every 500th row repeats the previous id), ages over 120 (0.2 %), discounts
 * above the amount (0.3 %), a currency code outside the set (`usd`, 0.4 %).
 *
 * @module
 */
import type { DuckDBConnection } from "@duckdb/node-api";
import { quoteLiteral } from "@mercury/core/sql";

/** SQL selecting `rows` rows of the orders table (20 columns), reproducible for a `seed`. */
export function ordersSql(rows: number, seed = 42): string {
  // hash(range, seed, k) gives independent, reproducible pseudo-random draws per column.
  const u = (k: number) => `((hash(range, ${seed}, ${k}) % 1000000)::double / 1000000)`;
  return `select
    (range - (range % 500 = 499)::bigint) as order_id,
    (${u(1)} * 50000)::bigint as customer_id,
    case when ${u(2)} < 0.03 then null
         when ${u(2)} < 0.04 then 'user' || range || '.example.com'
         else 'user' || (${
    u(1)
  } * 50000)::bigint || '@' || (['gmail.com','example.org','mail.fr','corp.io'])[1 + (range % 4)::int]
    end as email,
    'https://shop.example.com/p/' || (${u(3)} * 2000)::int as product_url,
    md5(range::varchar || ${seed})[1:8] || '-' || md5(range::varchar)[1:4] || '-4' || md5(range::varchar)[6:8] || '-a' ||
      md5(range::varchar)[10:12] || '-' || md5(range::varchar)[14:25] as session_id,
    '+1 555-' || lpad(((${u(4)} * 1000)::int)::varchar, 3, '0') || '-' || lpad(((${
    u(5)
  } * 10000)::int)::varchar, 4, '0') as phone,
    (10 + (${
    u(6)
  } * 240)::int)::varchar || '.' || (range % 256)::varchar || '.' || ((range // 256) % 256)::varchar || '.' || ((${
    u(7)
  } * 254)::int + 1)::varchar as ip,
    case when ${u(8)} < 0.02 then '' else (['FR','DE','US','GB','ES','IT','NL','BE'])[1 + (${
    u(8)
  } * 8)::int % 8] end as country,
    case when ${u(9)} < 0.004 then 'usd' else (['EUR','USD','GBP'])[1 + (${u(9)} * 3)::int % 3] end as currency,
    round(case when ${u(10)} < 0.005 then -${u(11)} * 50 else exp(2 + ${u(11)} * 4) end, 2) as amount,
    round(case when ${u(12)} < 0.003 then 400 + ${u(13)} * 100 else ${u(13)} * 10 end, 2) as discount,
    1 + (${u(14)} * 9)::int as quantity,
    case when ${u(15)} < 0.002 then 150 + (${u(16)} * 50)::int else 18 + (${u(16)} * 60)::int end as age,
    round(1 + ${u(17)} * 4, 1) as rating,
    date '2026-01-01' + (range % 300)::int as order_date,
    timestamp '2026-01-01 00:00:00' + to_seconds((range % 300) * 86400 + (${u(18)} * 86400)::bigint) as shipped_at,
    (['new','paid','shipped','delivered','returned'])[1 + (${u(19)} * 5)::int % 5] as status,
    ${u(20)} < 0.3 as is_member,
    round(${u(21)} * 100 + ${u(11)} * 20, 3) as score,
    case when ${u(22)} < 0.1 then null else 'gift wrap ' || (range % 7)::varchar end as note
  from range(${rows})`;
}

/** Writes `rows` rows of the orders table to a Parquet file. */
export async function writeOrdersParquet(conn: DuckDBConnection, path: string, rows: number, seed = 42): Promise<void> {
  await conn.run(`copy (${ordersSql(rows, seed)}) to ${quoteLiteral(path)} (format parquet, row_group_size 1000000)`);
}
