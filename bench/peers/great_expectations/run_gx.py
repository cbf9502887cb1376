"""Runs a suite through Great Expectations 1.x (pandas datasource) and prints the results as JSON.

usage: python run_gx.py DATA.parquet|DATA.csv SUITE.json [RESULT_FORMAT]

The configuration is GX's documented default for a pandas DataFrame: an
ephemeral context, a pandas data source, a whole-dataframe batch definition,
`batch.validate(suite)`. Timings (read, validate) go to the JSON's `timing`.
"""
import json
import sys
import time
import warnings

warnings.filterwarnings("ignore")

import pandas as pd  # noqa: E402
import great_expectations as gx  # noqa: E402
from great_expectations.expectations.expectation_configuration import ExpectationConfiguration  # noqa: E402

path, suite_path = sys.argv[1], sys.argv[2]
result_format = sys.argv[3] if len(sys.argv) > 3 else "SUMMARY"
t0 = time.perf_counter()
df = pd.read_parquet(path) if path.endswith(".parquet") else pd.read_csv(path)
t1 = time.perf_counter()
spec = json.load(open(suite_path))
context = gx.get_context(mode="ephemeral")
ds = context.data_sources.add_pandas("pd")
asset = ds.add_dataframe_asset("df")
bd = asset.add_batch_definition_whole_dataframe("all")
batch = bd.get_batch(batch_parameters={"dataframe": df})
suite = gx.ExpectationSuite(name=spec["name"])
for e in spec["expectations"]:
    suite.add_expectation_configuration(ExpectationConfiguration(type=e["type"], kwargs=e["kwargs"], meta=e.get("meta")))
t2 = time.perf_counter()
res = batch.validate(suite, result_format=result_format)
t3 = time.perf_counter()
out = res.to_json_dict()
out["timing"] = {"read_s": t1 - t0, "setup_s": t2 - t1, "validate_s": t3 - t2}


def plain(o):
    """numpy scalars (bool_, int64, float64) as Python values; anything else as text."""
    return o.item() if hasattr(o, "item") else str(o)


print(json.dumps(out, default=plain))
