import assert from "node:assert/strict";
import { logText, redactLiterals } from "@mercury/olap";

Deno.test("redactLiterals() replaces string and number literals, keeping identifiers, comments and parameters", () => {
  const cases: [string, string][] = [
    ["select 'it''s' as s, 3.5e-2 as f, .5 as h, 0x1F as x", "select ? as s, ? as f, ? as h, ? as x"],
    [`select "col 'quoted'" , col1, t2.c3 from t9`, `select "col 'quoted'" , col1, t2.c3 from t9`],
    ["select E'a\\'b' , e'x', 'c:\\' as p", "select ? , ?, ? as p"],
    ["select $$pass'word$$, $tag$secret$tag$", "select ?, ?"],
    ["select * from t where a = $1 and b = $name and c = ?", "select * from t where a = $1 and b = $name and c = ?"],
    ["select 1 -- note 'kept' 42\nfrom t /* also 7 */", "select ? -- note 'kept' 42\nfrom t /* also 7 */"],
    ["insert into users values ('bob', 'password=hunter2', -42)", "insert into users values (?, ?, -?)"],
    ["select 'unterminated", "select ?"],
  ];
  for (const [sql, want] of cases) assert.equal(redactLiterals(sql), want, sql);
});

Deno.test("logText() redacts before it cuts, so a literal across the cut never shows", () => {
  const sql = `select '${"s".repeat(50)}secret' as a, 1 as b`;
  const text = logText(sql, { maxChars: 30 });
  assert.doesNotMatch(text, /secret|sss/);
  assert.equal(text, "select ? as a, ? as b");
  const long = logText(`select '${"x".repeat(10)}' as y /* ${"z".repeat(100)} */`, { maxChars: 20 });
  assert.match(long, /^select \? as y \/\* z+… \(\+\d+ chars\)$/);
  assert.equal(long.length <= 20 + " (+100 chars)".length + 1, true);
  assert.equal(logText("select 'kept'", { literals: true }), "select 'kept'");
});
