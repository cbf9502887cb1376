"""Executes one notebook top to bottom in a fresh kernel and writes the
executed notebook and an HTML report. Called by `deno task nb` (tasks/nb.ts).

usage: execute.py NOTEBOOK OUT_IPYNB OUT_HTML --timeout SEC --kernel NAME [--cwd DIR] [--record FILE]

--cwd: the kernel's working directory (default: the notebook's folder; a notebook
with injected parameters is a copy elsewhere that must still run from notebooks/).
--record: a JSON file of what produced the run (parameters, git, Deno, services),
stored with the run's timings in the executed notebook's metadata and shown in
the report's footer.

Prints one JSON line on stdout:
  {"status": "ok"|"error", "cells": N, "seconds": S, "kernel_start": S, "first_cell": S,
   "cell": I, "error": "Name: value", "started": ISO, "ended": ISO,
   "cell_seconds": [[cell number, seconds], ...]}
Exit 0 when every cell ran, 1 when a cell failed, 2 when the notebook could not
be read or the kernel could not start.
"""

import argparse
import fcntl
import json
import os
import re
import subprocess
import sys
import tempfile
import time

import nbformat
from queue import Empty

from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
from nbclient.util import ensure_async, run_sync
from nbconvert import HTMLExporter


def write_atomic(path, text):
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def first_line(text, limit=300):
    line = next((l for l in str(text).strip().splitlines() if l.strip()), "")
    return line[:limit]


def syntax_error(deno, source):
    """Deno's kernel reports a syntax error only as "Execution failed"; ask
    Deno's parser (`deno fmt`) for the message, line and column."""
    try:
        r = subprocess.run([deno, "fmt", "--ext", "ts", "-"], input=source, capture_output=True, text=True,
                           timeout=30, env={**os.environ, "NO_COLOR": "1"})
    except Exception:
        return None
    m = re.search(r"error: (SyntaxError: [^\n]+)[\s\S]*?_stdin\.ts:(\d+):(\d+)", r.stderr)
    return f"{m.group(1)} (line {m.group(2)}, column {m.group(3)} of the cell)" if m else None


def mark_failed(cell, ename, evalue):
    """Makes sure the report shows why the cell failed, even when the kernel sent no error output."""
    if not any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
        cell.setdefault("outputs", []).append(nbformat.v4.new_output("error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"]))


OUTPUT_TYPES = ("execute_result", "display_data", "update_display_data", "stream", "error", "clear_output")


def drain_late_outputs(client, cell, index, msg_id, quiet=0.2, limit=3.0):
    """nbclient stops collecting a cell's outputs at the kernel's "idle"; the Deno kernel can
    publish a result or a display after it (seen on a loaded CI machine: a cell's whole output
    missing from the report). Collect what still arrives for this cell until the channel has
    been quiet for `quiet` seconds. Returns how many late outputs were kept."""
    kept = 0

    async def collect():
        nonlocal kept
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            try:
                msg = await ensure_async(client.kc.iopub_channel.get_msg(timeout=quiet))
            except Empty:
                return
            if msg["parent_header"].get("msg_id") != msg_id or msg["msg_type"] not in OUTPUT_TYPES:
                continue
            try:
                client.process_message(msg, cell, index)
                kept += 1
            except Exception:  # a control signal (e.g. completion): nothing more to add
                pass

    run_sync(collect)()
    return kept


def start_kernel(client, attempts=5):
    """Starts the client's kernel, retrying when it dies before it answers.

    jupyter_client picks the kernel's five ZMQ ports by binding port 0 and closing it; the Deno
    kernel binds them a second later. Two runners starting at once (`deno task test` runs files
    in parallel, `nb -p` runs two notebooks) are often handed the same just-freed ports, and the
    loser dies with AddrInUse (reproduced: 9 of 18 starts, six at a time). So runners on this
    machine take turns from port choice to the kernel's first reply (a file lock, ~1 s each), and a
    kernel that still dies (a port taken by some other process) is started again on new ports.
    The kernel's stderr goes to a file so its last error line can be reported."""
    lock_path = os.path.join(tempfile.gettempdir(), "mercury-kernel-start.lock")
    last = None
    for attempt in range(1, attempts + 1):
        err = tempfile.TemporaryFile(mode="w+b")
        try:
            with open(lock_path, "a") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                try:
                    client.km = client.create_kernel_manager()
                    client.start_new_kernel(stderr=err)
                    client.start_new_kernel_client()
                    return
                finally:
                    fcntl.flock(lock, fcntl.LOCK_UN)
        except Exception as e:
            if type(e).__name__ == "NoSuchKernel":
                raise
            err.seek(0)
            said = [l for l in re.sub(r"\x1b\[[0-9;]*m", "", err.read().decode("utf-8", "replace")).splitlines()
                    if "error" in l.lower()]
            last = first_line(e) + (f" ({said[-1].strip()[:200]})" if said else "")
            print(f"kernel start {attempt}/{attempts} failed: {last}", file=sys.stderr)
            if client.km is not None:
                try:
                    client._cleanup_kernel()
                except Exception:
                    pass
            client.km = None
            client.kc = None
            time.sleep(0.2 * attempt)
        finally:
            err.close()
    raise RuntimeError(f"{last}; tried {attempts} times")


def offline(html):
    """Drops the template's CDN scripts (require.js, MathJax, Mermaid): Mercury's outputs are
    HTML tables and inline SVG, so reports open with no network at all."""
    html = re.sub(r'<script[^>]*src="https?://[^"]*"[^>]*>\s*</script>', "", html)
    html = re.sub(r'<script type="text/x-mathjax-config">.*?</script>', "", html, flags=re.S)
    html = re.sub(r'<script type="module">(?:(?!</script>).)*?https?://cdn(?:(?!</script>).)*?</script>', "", html, flags=re.S)
    return html


def footer_html(record, result):
    """The report's footer: what produced the run and how long each cell took."""
    from html import escape
    rows = []
    params = record.get("parameters") or {}
    injected = set(record.get("injected") or [])
    rows.append(("parameters", ", ".join(f"{k}={json.dumps(v)}{' (given)' if k in injected else ''}"
                                          for k, v in params.items()) or "none"))
    g = record.get("git") or {}
    rows.append(("git", f"{g.get('commit', '?')[:12]} on {g.get('branch', '?')}{' (dirty tree)' if g.get('dirty') else ''}"))
    rows.append(("Deno", f"{record.get('deno', '?')} (TypeScript {record.get('typescript', '?')}, V8 {record.get('v8', '?')})"))
    rows.append(("deno.lock sha256", (record.get("lockSha256") or "?")[:16]))
    rows.append(("services", "; ".join(f"{n}: {s.get('version')} [{s.get('mode')}]"
                                       for n, s in (record.get("services") or {}).items()) or "none"))
    rows.append(("seeds", ", ".join(record.get("seeds") or []) or "none found in the source"))
    rows.append(("run", f"{result.get('started', '?')} → {result.get('ended', '?')} ({result.get('seconds', 0):.1f} s, "
                        f"kernel start {result.get('kernel_start', 0):.1f} s)"))
    cells = result.get("cell_seconds") or []
    rows.append(("cells", ", ".join(f"[{n}] {sec:.2f} s" for n, sec in cells) or "none ran"))
    body = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in rows)
    return ('<footer id="mercury-run" style="margin:2rem auto;max-width:1100px;font:12px ui-sans-serif,system-ui,sans-serif;'
            'color:#555;border-top:1px solid #ccc;padding-top:8px"><div style="font-weight:bold;margin-bottom:4px">'
            'Recorded run</div><table style="border-collapse:collapse">'
            + body.replace("<th>", '<th style="text-align:left;padding:2px 12px 2px 0;vertical-align:top">')
            + "</table></footer>")


def now_iso():
    from datetime import datetime, timezone
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("notebook")
    p.add_argument("out_ipynb")
    p.add_argument("out_html")
    p.add_argument("--timeout", type=int, default=120)
    p.add_argument("--kernel", default="deno")
    p.add_argument("--startup-timeout", type=int, default=60)
    p.add_argument("--deno", default="deno")
    p.add_argument("--cwd", default=None)
    p.add_argument("--record", default=None)
    a = p.parse_args()
    record = {}
    if a.record:
        with open(a.record, encoding="utf-8") as f:
            record = json.load(f)

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
        # After a cell's reply, wait this long for its outputs (default 4 s). The Deno kernel can
        # send a result after the reply; on a loaded 2-core CI machine 4 s lost a cell's output.
        iopub_timeout=60,
        resources={"metadata": {"path": a.cwd or os.path.dirname(os.path.abspath(a.notebook))}},
    )
    t0 = time.monotonic()
    result["started"] = now_iso()
    cell_seconds = result["cell_seconds"] = []
    code = 0
    try:
        start_kernel(client)
        with client.setup_kernel():
            result["kernel_start"] = round(time.monotonic() - t0, 3)
            # The id of each execute request, to match outputs that arrive after the cell finished.
            sent = {}
            execute = client.kc.execute

            def remember(*args, **kwargs):
                sent["msg_id"] = execute(*args, **kwargs)
                return sent["msg_id"]

            client.kc.execute = remember
            for index, cell in enumerate(nb.cells):
                c0 = time.monotonic()
                sent.pop("msg_id", None)
                client.execute_cell(cell, index)
                if "msg_id" in sent:
                    late = drain_late_outputs(client, cell, index, sent["msg_id"])
                    if late:
                        result["late_outputs"] = result.get("late_outputs", 0) + late
                        print(f"cell {index + 1}: {late} output(s) arrived after the kernel went idle; kept",
                              file=sys.stderr)
                if index == (code_cells[0] if code_cells else -1):
                    result["first_cell"] = round(time.monotonic() - c0, 3)
                if cell.cell_type == "code":
                    cell_seconds.append([index + 1, round(time.monotonic() - c0, 3)])
    except CellTimeoutError as e:
        result.update(status="error", cell=index + 1, error=f"cell timed out after {a.timeout}s")
        mark_failed(nb.cells[index], "CellTimeoutError", f"cell timed out after {a.timeout}s (raise --timeout)")
        code = 1
    except CellExecutionError as e:
        message = first_line(f"{e.ename}: {e.evalue}")
        if message == "Error: Execution failed":
            message = syntax_error(a.deno, nb.cells[index].source) or message
        result.update(status="error", cell=index + 1, error=message)
        ename, _, evalue = message.partition(": ")
        mark_failed(nb.cells[index], ename, evalue)
        code = 1
    except DeadKernelError as e:
        result.update(status="error", cell=index + 1, error=f"kernel died: {first_line(e)}")
        code = 1
    except Exception as e:  # kernel missing or failed to start
        hint = " (install it with `deno jupyter --install`)" if type(e).__name__ == "NoSuchKernel" else ""
        result.update(status="error", cell=None, error=f"kernel did not start: {type(e).__name__}: {first_line(e)}{hint}")
        code = 2
    result["seconds"] = round(time.monotonic() - t0, 3)
    result["ended"] = now_iso()

    # Reports are written even when a cell failed: the error is what the reader needs to see.
    nb.metadata.setdefault("mercury", {})["run"] = {**record, **result}
    write_atomic(a.out_ipynb, nbformat.writes(nb))
    exporter = HTMLExporter(template_name="lab")
    exporter.exclude_input_prompt = False
    html, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": os.path.basename(a.notebook)}})
    html = offline(html)
    if record:
        html = html.replace("</body>", footer_html(record, result) + "\n</body>", 1)
    write_atomic(a.out_html, html)
    print(json.dumps(result))
    return code


if __name__ == "__main__":
    sys.exit(main())
