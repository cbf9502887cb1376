/**
 * `deno task nb:strip [--check]`: removes outputs, execution counts and run
 * metadata from `notebooks/*.ipynb` so commits hold only the source. With
 * `--check` it changes nothing and exits non-zero naming each notebook that
 * still has outputs.
 *
 * @module
 */
import { main, MercuryError, projectRoot } from "@mercury/core";
import { writeAtomic } from "./services/_process.ts";

interface Cell {
  cell_type: string;
  outputs?: unknown[];
  execution_count?: number | null;
  metadata?: Record<string, unknown>;
}

interface Notebook {
  cells: Cell[];
  metadata: Record<string, unknown>;
}

/** Returns the stripped notebook text (1-space indent, trailing newline, as Jupyter writes). */
export function strip(text: string, where: string): string {
  let nb: Notebook;
  try {
    nb = JSON.parse(text);
  } catch (err) {
    throw new MercuryError("input", `${where} is not valid JSON: ${(err as Error).message}`, {
      where,
      hint: "open it in Jupyter and save it again",
    });
  }
  if (!Array.isArray(nb.cells)) throw new MercuryError("input", `${where} has no cells`, { where });
  for (const cell of nb.cells) {
    if (cell.cell_type === "code") {
      cell.outputs = [];
      cell.execution_count = null;
    }
    if (cell.metadata) {
      delete cell.metadata.execution;
      delete cell.metadata.collapsed;
      delete cell.metadata.scrolled;
    }
  }
  delete nb.metadata.mercury;
  delete nb.metadata.widgets;
  return JSON.stringify(nb, null, 1) + "\n";
}

if (import.meta.main) {
  await main(async (argv) => {
    const check = argv.includes("--check");
    const dir = `${projectRoot()}/notebooks`;
    const files = [...Deno.readDirSync(dir)].filter((e) => e.name.endsWith(".ipynb")).map((e) => `${dir}/${e.name}`)
      .sort();
    const dirty: string[] = [];
    for (const file of files) {
      const text = await Deno.readTextFile(file);
      const clean = strip(text, file);
      if (clean === text) continue;
      dirty.push(file.replace(/^.*\//, "notebooks/"));
      if (!check) await writeAtomic(file, clean);
    }
    if (check && dirty.length) {
      throw new MercuryError("input", `${dirty.join(", ")} ${dirty.length === 1 ? "has" : "have"} outputs`, {
        hint: "run `deno task nb:strip` before committing",
      });
    }
    console.log(check ? `${files.length} notebooks clean` : `${dirty.length} of ${files.length} notebooks stripped`);
    return 0;
  });
}
