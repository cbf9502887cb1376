"""Executes one notebook top to bottom in a fresh kernel and writes the
executed notebook and an HTML report. Called by `deno task nb` (tasks/nb.ts).

usage: execute.py NOTEBOOK OUT_IPYNB OUT_HTML --timeout SEC --kernel NAME

Prints one JSON line on stdout:
  {"status": "ok"|"error", "cells": N, "seconds": S, "kernel_start": S, "first_cell": S,
   "cell": I, "error": "Name: value"}
Exit 0 when every cell ran, 1 when a cell failed, 2 when the notebook could not
be read or the kernel could not start.
"""

import argparse
import json
import os
import sys
import time

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
from nbconvert import HTMLExporter


def write_atomic(path, text):
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def first_line(text, limit=300):
    line = next((l for l in str(text).strip().splitlines() if l.strip()), "")
    return line[:limit]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("notebook")
    p.add_argument("out_ipynb")
    p.add_argument("out_html")
    p.add_argument("--timeout", type=int, default=120)
    p.add_argument("--kernel", default="deno")
    p.add_argument("--startup-timeout", type=int, default=60)
    a = p.parse_args()

    result = {"status": "ok", "cells": 0, "seconds": 0.0}
    try:
        nb = nbformat.read(a.notebook, as_version=4)
    except Exception as e:  # unreadable or invalid JSON
        print(json.dumps({"status": "error", "cell": None, "error": f"cannot read notebook: {first_line(e)}"}))
        return 2

    code_cells = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    result["cells"] = len(code_cells)
    client = NotebookClient(
        nb,
        timeout=a.timeout,
        startup_timeout=a.startup_timeout,
        kernel_name=a.kernel,
        allow_errors=False,
        record_timing=True,
        resources={"metadata": {"path": os.path.dirname(os.path.abspath(a.notebook))}},
    )
    t0 = time.monotonic()
    code = 0
    try:
        with client.setup_kernel():
            result["kernel_start"] = round(time.monotonic() - t0, 3)
            for index, cell in enumerate(nb.cells):
                c0 = time.monotonic()
                client.execute_cell(cell, index)
                if index == (code_cells[0] if code_cells else -1):
                    result["first_cell"] = round(time.monotonic() - c0, 3)
    except CellTimeoutError as e:
        result.update(status="error", cell=index + 1, error=f"cell timed out after {a.timeout}s")
        code = 1
    except CellExecutionError as e:
        result.update(status="error", cell=index + 1, error=first_line(f"{e.ename}: {e.evalue}"))
        code = 1
    except DeadKernelError as e:
        result.update(status="error", cell=index + 1, error=f"kernel died: {first_line(e)}")
        code = 1
    except Exception as e:  # kernel missing or failed to start
        result.update(status="error", cell=None, error=f"kernel did not start: {type(e).__name__}: {first_line(e)}")
        code = 2
    result["seconds"] = round(time.monotonic() - t0, 3)

    # Reports are written even when a cell failed: the error is what the reader needs to see.
    nb.metadata.setdefault("mercury", {})["run"] = {k: v for k, v in result.items()}
    write_atomic(a.out_ipynb, nbformat.writes(nb))
    exporter = HTMLExporter(template_name="lab")
    exporter.exclude_input_prompt = False
    # No CDN: reports open offline. MathJax and require.js are not needed by Mercury's outputs.
    exporter.mathjax_url = ""
    html, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": os.path.basename(a.notebook)}})
    write_atomic(a.out_html, html)
    print(json.dumps(result))
    return code


if __name__ == "__main__":
    sys.exit(main())
