/**
 * Jars from Maven Central for a pom: `mvn dependency:copy-dependencies` into a
 * folder, fetched again only when the pom changes (a stamp of its SHA-256 in
 * the folder), swapped in whole so a failed fetch leaves the old folder.
 *
 * @example
 * ```ts ignore
 * import { fetchJars } from "./_maven.ts";
 * await fetchJars("services/kafka/pom.xml", ".mercury/kafka/libs", "the Kafka broker jars");
 * // then: java -cp '.mercury/kafka/libs/*' …
 * ```
 *
 * @module
 */
import { aptInstall, onPath, runOk, sha256Hex, withFileLock } from "./_process.ts";

/** Fills `libs` with the jars `pom` names (and their dependencies); a no-op when they are there. */
export async function fetchJars(pom: string, libs: string, what: string, logFile?: string): Promise<void> {
  if (!(await onPath("mvn"))) await aptInstall(["maven"], `Maven (fetches ${what})`);
  const stamp = await sha256Hex(await Deno.readTextFile(pom));
  const fetched = async () => (await Deno.readTextFile(`${libs}/.pom-sha256`).catch(() => "")).trim() === stamp;
  if (await fetched()) return;
  // One fetch at a time (test files run in parallel may want the same jars); the others then find them there.
  await withFileLock(`${libs}.lock`, async () => {
    if (!(await fetched())) await fetchInto(pom, libs, what, stamp, logFile);
  });
}

async function fetchInto(pom: string, libs: string, what: string, stamp: string, logFile?: string): Promise<void> {
  const parent = libs.slice(0, libs.lastIndexOf("/")) || ".";
  await Deno.mkdir(parent, { recursive: true });
  const tmp = `${libs}.tmp-${Deno.pid}`;
  await Deno.remove(tmp, { recursive: true }).catch(() => {});
  console.error(`fetching ${what} from Maven Central (${pom})…`);
  await runOk(
    "mvn",
    ["-q", "-B", "-f", pom, "dependency:copy-dependencies", `-DoutputDirectory=${tmp}`],
    "mvn dependency:copy-dependencies",
    logFile ? { logFile } : {},
  );
  await Deno.writeTextFile(`${tmp}/.pom-sha256`, stamp);
  await Deno.remove(libs, { recursive: true }).catch(() => {});
  await Deno.rename(tmp, libs);
}
