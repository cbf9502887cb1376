/**
 * What Mercury tells Prometheus: scrape targets as a file_sd list
 * (`.mercury/prometheus/targets/<name>.json`, picked up by Prometheus within
 * its refresh interval; from `@mercury/core/services/prometheus`) and alert rules (`.mercury/prometheus/rules/<name>.yml`,
 * checked by `promtool check rules` before they replace the old file, then
 * loaded with `POST /-/reload`). Both written atomically.
 *
 * @module
 */
import { writeFileAtomic as writeAtomic } from "@mercury/core/files";
import { MercuryError } from "@mercury/core/plugin";
import { prometheusPaths } from "@mercury/core/services/prometheus";

// The targets half lives in core (the stream plugin's autoscaled workers list themselves too).
export { prometheusPaths, writeTargets } from "@mercury/core/services/prometheus";

/** `promtool check rules` on a rules text; throws with promtool's message when refused. */
export async function checkRulesText(text: string): Promise<string> {
  const tmp = await Deno.makeTempFile({ suffix: ".yml" });
  try {
    await Deno.writeTextFile(tmp, text);
    let out: Deno.CommandOutput;
    try {
      out = await new Deno.Command("promtool", { args: ["check", "rules", tmp], stdout: "piped", stderr: "piped" })
        .output();
    } catch (err) {
      throw new MercuryError("not_found", "promtool is not installed", {
        hint: "deno task services up prometheus installs Debian's prometheus package (promtool included)",
        cause: err,
      });
    }
    const dec = new TextDecoder();
    const msg = (dec.decode(out.stdout) + dec.decode(out.stderr)).trim();
    if (out.code !== 0) {
      throw new MercuryError("input", `promtool refused the alert rules: ${msg.split("\n").slice(-2).join(" ")}`, {
        where: "prometheus rules",
        hint: "fix the rule's expression or duration",
      });
    }
    return msg;
  } finally {
    await Deno.remove(tmp).catch(() => {});
  }
}

/** Checks and installs `<name>.yml`; then asks Prometheus (when it answers) to reload. */
export async function installRules(
  root: string,
  name: string,
  text: string,
  prometheusUrl?: string,
): Promise<{ path: string; reloaded: boolean }> {
  await checkRulesText(text);
  const dir = prometheusPaths(root).rules;
  await Deno.mkdir(dir, { recursive: true });
  const path = `${dir}/${name}.yml`;
  await writeAtomic(path, text);
  let reloaded = false;
  if (prometheusUrl) {
    try {
      const r = await fetch(`${prometheusUrl}/-/reload`, { method: "POST", signal: AbortSignal.timeout(5000) });
      await r.body?.cancel();
      reloaded = r.ok;
    } catch { /* Prometheus down: it reads the file when it starts */ }
  }
  return { path, reloaded };
}
