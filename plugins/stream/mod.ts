/**
 * `@mercury/stream`: the real-time pipeline on Kafka — a load
 * generator, event validation, event-time windows with watermarks and
 * mergeable sketches, and exactly-once sinks into PostgreSQL or Kafka.
 *
 * @example
 * ```ts
 * import { manifest } from "@mercury/stream";
 * import assert from "node:assert/strict";
 *
 * assert.equal(manifest.name, "stream");
 * assert.deepEqual(manifest.services, ["kafka", "postgres", "redis"]);
 * ```
 *
 * @module
 */
export { manifest } from "./manifest.ts";
export { listTopics, type TopicSummary } from "./topics.ts";
export { type Event, isRejected, parseEvent, parseEventAt, type ParseOptions, type Rejected } from "./event.ts";
export { type GeneratedRecord, generateEvents, type GeneratorOptions, prng } from "./generator.ts";
export { murmur3 } from "./hash.ts";
export { type HllJson, HyperLogLog } from "./hll.ts";
export { type CompactSketch, newQuantileSketch, QUANTILE_ACCURACY, QuantileSketch } from "./quantile.ts";
export { DDSketch } from "./_ddsketch.ts";
export {
  describeWindow,
  hopping,
  parseDuration,
  parseWindowSpec,
  session,
  tumbling,
  type WindowSpec,
  windowStarts,
} from "./window.ts";
export {
  type AggregatorOptions,
  type AggregatorSnapshot,
  type Observation,
  WindowAggregator,
  type WindowResult,
} from "./aggregator.ts";
export { type Enricher, type Topology, topology } from "./topology.ts";
export { DEFAULT_PIPELINE, defaultPipeline, type DefaultPipelineArgs, defaultTopology } from "./default_pipeline.ts";
export { placePartitions, ThreadedProcessor, type ThreadedProcessorOptions, type TopologyModule } from "./threaded.ts";
export {
  type Changelog,
  changelogDimension,
  type EnrichedEvent,
  openChangelog,
  redisDimension,
  type RedisDimensionOptions,
} from "./enrich.ts";
export { PostgresSink, type SinkMode } from "./postgres_sink.ts";
export {
  type CheckpointStore,
  FencedError,
  type LoadedPartition,
  type PartitionCheckpoint,
} from "./checkpoint_store.ts";
export { Processor, type ProcessorOptions, type ProcessorStats } from "./processor.ts";
export { checkGroupOffsets, checkTopic } from "./group.ts";
export {
  type FetchedPartition,
  Fetcher,
  type FetcherOptions,
  FetchError,
  type FetchResponse,
  type RecordVisitor,
} from "./fetcher.ts";
export { crc32c, ProduceError, RecordProducer, type RecordProducerOptions } from "./record_producer.ts";
export {
  ensureTopic,
  produceEvents,
  type ProduceEventsOptions,
  type ProduceReport,
  type TopicOptions,
} from "./produce.ts";
export { compareTotals, groundTruth, readTopic, sinkTotals, type Totals } from "./verify.ts";
export {
  decodeObservationChunk,
  decodeObservations,
  encodeObservation,
  ObservationLog,
  replayObservations,
} from "./observation_log.ts";
export { type MetricsServer, serveMetrics } from "./metrics_server.ts";
export {
  closeWithin,
  DEFAULT_REQUEST_TIMEOUT_MS,
  kafkaSecurity,
  kafkaUnavailable,
  platformaticSecurity,
  platformaticTimeouts,
  requestTimeoutMs,
  requestTimeoutOption,
  withKafkaDeadline,
} from "./kafka_deadline.ts";
export { LagReader, noTableYet, type PartitionLag } from "./lag.ts";
export { plainSession, type SaslCredentials, type SaslSession, saslSession, scramSession } from "./kafka_sasl.ts";
export {
  announceWorker,
  bucketQuantile,
  type Buckets,
  Dashboard,
  type DashboardOptions,
  parseHistogram,
  recentBuckets,
} from "./dashboard.ts";
export {
  Autoscaler,
  type AutoscalerOptions,
  decideScale,
  type LagSource,
  ProcessPool,
  type ScaleDecision,
  type ScalePolicy,
  type WorkerPool,
} from "./autoscale.ts";
export { type KafkaSinkOptions, kafkaSinkTotals, KafkaTransactionalSink, readCommitted } from "./kafka_sink.ts";
