/**
 * R with the `forecast` package for the forecasting benchmark's R peer: Debian's `r-cran-forecast` (8.20 on
 * bookworm), installed with apt-get on first use (CRAN itself is not reachable here).
 *
 * @module
 */
import { aptInstall, onPath, run } from "../../../tasks/services/_process.ts";

/** Returns `Rscript` once `library(forecast)` loads, installing r-cran-forecast with apt-get if needed. */
export async function ensureR(): Promise<string> {
  const loads = async () => {
    const rscript = await onPath("Rscript");
    if (!rscript) return undefined;
    const r = await run(rscript, ["-e", "suppressMessages(library(forecast))"]);
    return r.code === 0 ? rscript : undefined;
  };
  const have = await loads();
  if (have) return have;
  await aptInstall(["r-cran-forecast"], "R's forecast package (the benchmark's R peer)");
  const now = await loads();
  if (!now) throw new Error("r-cran-forecast was installed but library(forecast) still fails to load");
  return now;
}
