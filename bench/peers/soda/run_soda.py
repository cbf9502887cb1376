"""Runs SodaCL checks with Soda Core (DuckDB data source) over a Parquet file; prints outcomes and timing as JSON.

usage: python run_soda.py DATA.parquet CHECKS.yaml

Soda's documented DuckDB set-up: a duckdb connection handed to `Scan.add_duckdb_connection`,
the file exposed as a view named `data`, `scan.add_sodacl_yaml_str(checks)`, `scan.execute()`.
"""
import json
import sys
import time

import duckdb
from soda.scan import Scan

path, checks_path = sys.argv[1], sys.argv[2]
t0 = time.perf_counter()
con = duckdb.connect(":memory:")
con.execute(f"create view data as select * from read_parquet('{path}')")
scan = Scan()
scan.set_data_source_name("duckdb")
scan.add_duckdb_connection(duckdb_connection=con, data_source_name="duckdb")
scan.add_sodacl_yaml_str(open(checks_path).read())
scan.execute()
t1 = time.perf_counter()
results = scan.get_scan_results()
out = [
    {"name": c.get("name"), "definition": c.get("definition"), "outcome": c.get("outcome"),
     "value": (c.get("diagnostics") or {}).get("value")}
    for c in results.get("checks", [])
]
print(json.dumps({"checks": out, "timing": {"scan_s": t1 - t0}}, default=str))
