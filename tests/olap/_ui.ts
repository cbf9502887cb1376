/** Shared pieces of the olap web UI's browser tests. */
import type { Browser, Page } from "playwright-core";
import { ROOT } from "../_helpers.ts";

/** Debian's chromium unless `MERCURY_CHROMIUM` names another (`.ci/run` installs it when missing). */
export const CHROMIUM = Deno.env.get("MERCURY_CHROMIUM") ?? "/usr/bin/chromium";
/** Where the UI tests keep their screenshots (under the gitignored reports/). */
export const SHOTS = `${ROOT}/reports/olap-ui`;

/** The page's test handle (`globalThis.olapUi`). */
export type Ui = {
  olapUi: { editor: { get(): string; set(s: string): void }; history(): { sql: string; label?: string }[] };
};
/** The editor's text. */
export const getSql = (page: Page): Promise<string> =>
  page.evaluate(() => (globalThis as unknown as Ui).olapUi.editor.get());
/** Replaces the editor's text. */
export const setSql = (page: Page, sql: string): Promise<void> =>
  page.evaluate((s) => (globalThis as unknown as Ui).olapUi.editor.set(s), sql);

/**
 * A page on `url` (in a context of its own, allowed to use the clipboard) that refuses (and records in `outside`) every
 * request not to `url`'s host; `errors` collects page errors.
 */
export async function offlinePage(
  browser: Browser,
  url: string,
): Promise<{ page: Page; outside: string[]; errors: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: new URL(url).origin });
  const page = await context.newPage();
  const host = new URL(url).host;
  const outside: string[] = [];
  await page.route("**/*", (route) => {
    const u = new URL(route.request().url());
    if (u.protocol === "data:" || u.host === host) return route.continue();
    outside.push(u.href);
    return route.abort();
  });
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("console", (m) => void (m.type() === "error" && errors.push(m.text())));
  await page.goto(url);
  return { page, outside, errors };
}
