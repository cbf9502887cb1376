"""Feast peer for bench/features_bench.ts: the same data, the same Redis.

usage:
  feast_peer.py setup REPO_DIR CONFIG_JSON      write feature_store.yaml + definitions, feast apply
  feast_peer.py historical REPO_DIR ENTITIES_PARQUET OUT_PARQUET REFS_JSON
  feast_peer.py materialize REPO_DIR START_ISO END_ISO VIEWS_CSV
Each command prints one JSON line with its timings.
"""
import json
import os
import sys
import time


def setup(repo_dir, config_json):
    cfg = json.loads(config_json)
    os.makedirs(repo_dir, exist_ok=True)
    with open(os.path.join(repo_dir, "feature_store.yaml"), "w") as f:
        f.write(f"""project: {cfg['project']}
registry: {repo_dir}/registry.db
provider: local
online_store:
  type: redis
  connection_string: "{cfg['redis']}"
offline_store:
  type: file
entity_key_serialization_version: 3
""")
    views = []
    for v in cfg["views"]:
        fields = ", ".join(f'Field(name="{n}", dtype=Float64)' for n in v["features"])
        views.append(f"""
{v['name']} = FeatureView(
    name="{v['name']}",
    entities=[thing],
    ttl=timedelta(seconds={v['ttl']}),
    schema=[{fields}],
    online=True,
    source=FileSource(path="{v['path']}", timestamp_field="event_timestamp", created_timestamp_column="created"),
)
""")
    with open(os.path.join(repo_dir, "definitions.py"), "w") as f:
        f.write("""from datetime import timedelta
from feast import Entity, FeatureView, Field, FileSource, ValueType
from feast.types import Float64

thing = Entity(name="thing", join_keys=["entity_id"], value_type=ValueType.INT64)
""" + "".join(views))
    from feast import FeatureStore
    t0 = time.perf_counter()
    import subprocess
    subprocess.run([os.path.join(os.path.dirname(sys.executable), "feast"), "-c", repo_dir, "apply"], check=True,
                   stdout=subprocess.DEVNULL)
    print(json.dumps({"apply_seconds": time.perf_counter() - t0}))
    FeatureStore(repo_path=repo_dir)


def historical(repo_dir, entities_path, out_path, refs_json):
    import pandas as pd
    from feast import FeatureStore
    store = FeatureStore(repo_path=repo_dir)
    entities = pd.read_parquet(entities_path)
    entities["event_timestamp"] = pd.to_datetime(entities["event_timestamp"], utc=True)
    t0 = time.perf_counter()
    df = store.get_historical_features(entity_df=entities, features=json.loads(refs_json)).to_df()
    seconds = time.perf_counter() - t0
    df["event_timestamp"] = df["event_timestamp"].dt.tz_convert("UTC").dt.tz_localize(None)
    df.to_parquet(out_path, index=False)
    print(json.dumps({"seconds": seconds, "rows": len(df)}))


def materialize(repo_dir, start, end, views):
    from datetime import datetime
    from feast import FeatureStore
    store = FeatureStore(repo_path=repo_dir)
    t0 = time.perf_counter()
    store.materialize(start_date=datetime.fromisoformat(start), end_date=datetime.fromisoformat(end),
                      feature_views=views.split(","))
    print(json.dumps({"seconds": time.perf_counter() - t0}))


if __name__ == "__main__":
    cmd, *args = sys.argv[1:]
    {"setup": setup, "historical": historical, "materialize": materialize}[cmd](*args)
