/**
 * Spark's own Spark Connect protocol, loaded at run time with
 * `@grpc/proto-loader` from the `.proto` files that `deno task services up
 * spark` extracts from Maven Central's `spark-connect-common` jar into
 * `.mercury/spark/proto/` (`MERCURY_SPARK_PROTO` names another folder).
 * Nothing of the protocol is written by hand.
 *
 * @module
 */
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { MercuryError, projectRoot, stateDir } from "@mercury/core";

/** The folder holding `spark/connect/*.proto`. */
export function sparkProtoDir(): string {
  return Deno.env.get("MERCURY_SPARK_PROTO") ?? `${stateDir(projectRoot())}/spark/proto`;
}

let loaded: { dir: string; ctor: grpc.ServiceClientConstructor } | undefined;

/** The generated `spark.connect.SparkConnectService` client constructor (loaded once per folder). */
export function sparkConnectService(dir: string = sparkProtoDir()): grpc.ServiceClientConstructor {
  if (loaded?.dir === dir) return loaded.ctor;
  const base = `${dir}/spark/connect/base.proto`;
  try {
    Deno.statSync(base);
  } catch {
    throw new MercuryError("not_found", `Spark Connect's .proto files are not at ${dir}`, {
      where: base,
      hint: "run `deno task services up spark` once (it extracts them from the spark-connect-common jar)",
    });
  }
  const def = protoLoader.loadSync(base, {
    includeDirs: [dir],
    keepCase: true,
    longs: String,
    enums: String,
    defaults: false,
    oneofs: true,
  });
  const pkg = grpc.loadPackageDefinition(def) as unknown as {
    spark: { connect: { SparkConnectService: grpc.ServiceClientConstructor } };
  };
  loaded = { dir, ctor: pkg.spark.connect.SparkConnectService };
  return loaded.ctor;
}
