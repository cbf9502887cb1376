"""Pickles a pandas/Arrow UDF for Spark Connect, as PySpark's Connect client does.

Reads one JSON object on stdin: {"file": path of a module, "factory": name of a
function in it that returns the UDF, "args": [...] for the factory,
"input_schema": the input's Spark Connect DataType (proto JSON),
"add_fields": [{"name": ..., "type": "double"|...}] appended to the input's
fields for the output}. Writes {"command": base64 of cloudpickle((func,
output_type)), "python_ver": "3.11", "output_type": DataType proto JSON}.

Run with the executors' Python (the cluster's venv): the pickle and
python_ver must match the workers' interpreter. The module is loaded as a
fresh module registered for pickling by value, so executors need no copy of it.
"""

import base64
import importlib.util
import json
import sys

from google.protobuf import json_format
from pyspark import cloudpickle
from pyspark.serializers import CloudPickleSerializer
from pyspark.sql.connect.proto import types_pb2
from pyspark.sql.connect.types import proto_schema_to_pyspark_data_type, pyspark_types_to_proto_types
from pyspark.sql.types import StructField, StructType, _parse_datatype_json_value


def main() -> None:
    req = json.load(sys.stdin)
    spec = importlib.util.spec_from_file_location("mercury_udf_module", req["file"])
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    cloudpickle.register_pickle_by_value(module)
    func = getattr(module, req["factory"])(*req.get("args", []))
    proto_in = json_format.ParseDict(req["input_schema"], types_pb2.DataType(), ignore_unknown_fields=True)
    schema = proto_schema_to_pyspark_data_type(proto_in)
    fields = list(schema.fields) + [
        StructField(f["name"], _parse_datatype_json_value(f["type"]), True) for f in req["add_fields"]
    ]
    output_type = StructType(fields)
    command = CloudPickleSerializer().dumps((func, output_type))
    out = {
        "command": base64.b64encode(command).decode("ascii"),
        "python_ver": "%d.%d" % sys.version_info[:2],
        "output_type": json_format.MessageToDict(
            pyspark_types_to_proto_types(output_type), preserving_proto_field_name=True
        ),
    }
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
