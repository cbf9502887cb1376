// The Apache Flink peer of `deno task bench:stream`: Mercury's default pipeline (parse, key by user, one-minute
// event-time tumbling windows with 5 s bounded out-of-orderness, count/sum/min/max, HyperLogLog distinct devices,
// DDSketch percentiles, final results only, exactly-once sink to Kafka) as a DataStream job in a local MiniCluster
// (the jars of pom.xml beside this file; run.ts compiles and runs it). Like the Kafka Streams peer it has no Redis
// join, so the comparison favours it.
//
// The configuration is the fair one per Flink's docs for this job:
// - parallelism 2 (the machine's 2 cores), object reuse on (the records are not kept by the operators);
// - the HashMap state backend (state as objects on the heap, copied on write during an asynchronous snapshot): Flink's
//   docs recommend it when the state fits in memory and call it faster than RocksDB, which serialises every state
//   access; a few hundred thousand small windows fit in a 2 GB heap. Checkpoints every second (Mercury's worker and the
//   Kafka Streams peer also commit every second) to a local directory, exactly-once mode;
// - `KafkaSource` from the earliest offset, bounded by the end offsets at start (the job stops when it has consumed
//   them; the end of input advances the watermark to the end, so every window fires, the ones Mercury's worker still
//   holds open included);
// - `KafkaSink` with `DeliveryGuarantee.EXACTLY_ONCE` (a Kafka transaction per checkpoint, committed when the
//   checkpoint completes; the final checkpoint after the end of input commits the last one).
//
// The sketches are the ones Mercury uses: Apache DataSketches' HllSketch with 2^10 registers (Mercury's HyperLogLog
// precision) and Datadog's DDSketch for Java with the logarithmic mapping at 2 % relative accuracy (Mercury's
// QuantileSketch is that sketch, ported). They live in the window state as objects; Kryo serialises them at checkpoints
// only, with the serialiser below (their compact binary forms).
//
// Throughput is measured like the other two: from the job RUNNING to the job FINISHED (its last transaction committed).
//
// usage: java -cp 'libs/*:classes' FlinkPeer BROKERS TOPIC APP_ID CHECKPOINT_DIR PARALLELISM
// prints one JSON line: {"events":…,"aggregated":…,"windows":…,"seconds":…,"eventsPerSec":…,…}
import com.datadoghq.sketch.ddsketch.DDSketch;
import com.datadoghq.sketch.ddsketch.DDSketches;
import com.datadoghq.sketch.ddsketch.encoding.ByteArrayInput;
import com.datadoghq.sketch.ddsketch.encoding.GrowingByteArrayOutput;
import com.datadoghq.sketch.ddsketch.store.UnboundedSizeDenseStore;
import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.datasketches.hll.HllSketch;
import org.apache.datasketches.hll.TgtHllType;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.AggregateFunction;
import org.apache.flink.api.common.serialization.SerializationSchema;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.state.hashmap.HashMapStateBackend;
import org.apache.flink.streaming.api.CheckpointingMode;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.windowing.ProcessWindowFunction;
import org.apache.flink.streaming.api.windowing.assigners.TumblingEventTimeWindows;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;

public final class FlinkPeer {
  static final double ACCURACY = 0.02;
  static final int HLL_LG_K = 10;
  // The MiniCluster runs in this JVM: plain counters see every subtask.
  static final AtomicLong events = new AtomicLong();
  static final AtomicLong aggregated = new AtomicLong();
  static final AtomicLong windows = new AtomicLong();

  /** A parsed, valid event (a Flink POJO: public fields, a no-argument constructor). */
  public static final class Event {
    public String user;
    public String device;
    public double amount;
    public long ts;

    public Event() {}
  }

  /** Values as Mercury's parser accepts them; a malformed record is dropped (Mercury sends it to the DLQ). */
  static final class Parse implements KafkaRecordDeserializationSchema<Event> {
    transient ObjectMapper json;

    public void deserialize(ConsumerRecord<byte[], byte[]> r, Collector<Event> out) {
      events.incrementAndGet();
      if (json == null) json = new ObjectMapper();
      if (r.value() == null) return;
      try {
        JsonNode n = json.readTree(r.value());
        JsonNode id = n.get("id"), user = n.get("user"), device = n.get("device"), amount = n.get("amount"),
            ts = n.get("ts");
        if (id == null || !id.isTextual() || user == null || !user.isTextual() || device == null
            || !device.isTextual()) return;
        if (amount == null || !amount.isNumber() || ts == null || !ts.canConvertToLong() || ts.asLong() < 0) return;
        Event e = new Event();
        e.user = user.asText();
        e.device = device.asText();
        e.amount = amount.asDouble();
        e.ts = ts.asLong();
        out.collect(e);
      } catch (IOException e) {
        // malformed JSON: dropped
      }
    }

    public TypeInformation<Event> getProducedType() {
      return TypeInformation.of(Event.class);
    }
  }

  /** The window aggregate: count, sum, min, max, distinct devices (HLL), percentiles (DDSketch). */
  public static final class Agg {
    long count;
    double sum, min = Double.POSITIVE_INFINITY, max = Double.NEGATIVE_INFINITY;
    HllSketch devices = new HllSketch(HLL_LG_K, TgtHllType.HLL_8);
    DDSketch amounts = DDSketches.logarithmicUnboundedDense(ACCURACY);
  }

  /** DDSketch's own binary encoding (what {@code DDSketch.decode} reads; {@code serialize()} is the protobuf form). */
  static byte[] encode(DDSketch s) {
    GrowingByteArrayOutput o = GrowingByteArrayOutput.withInitialCapacity(64);
    try {
      s.encode(o, false);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return o.trimmedCopy();
  }

  /** Kryo serialiser of {@link Agg} for checkpoints and copy-on-write: the sketches' compact binary forms. */
  public static final class AggKryo extends Serializer<Agg> implements Serializable {
    public void write(Kryo kryo, Output out, Agg a) {
      out.writeLong(a.count);
      out.writeDouble(a.sum);
      out.writeDouble(a.min);
      out.writeDouble(a.max);
      byte[] h = a.devices.toCompactByteArray();
      out.writeInt(h.length);
      out.writeBytes(h);
      byte[] db = encode(a.amounts);
      out.writeInt(db.length);
      out.writeBytes(db);
    }

    public Agg read(Kryo kryo, Input in, Class<Agg> type) {
      Agg a = new Agg();
      a.count = in.readLong();
      a.sum = in.readDouble();
      a.min = in.readDouble();
      a.max = in.readDouble();
      a.devices = HllSketch.heapify(in.readBytes(in.readInt()));
      try {
        a.amounts = DDSketch.decode(ByteArrayInput.wrap(in.readBytes(in.readInt())), UnboundedSizeDenseStore::new);
      } catch (IOException e) {
        throw new RuntimeException(e);
      }
      return a;
    }

    public Agg copy(Kryo kryo, Agg a) {
      Agg c = new Agg();
      c.count = a.count;
      c.sum = a.sum;
      c.min = a.min;
      c.max = a.max;
      c.devices = a.devices.copy();
      c.amounts = a.amounts.copy();
      return c;
    }
  }

  static final class Aggregate implements AggregateFunction<Event, Agg, Agg> {
    public Agg createAccumulator() {
      return new Agg();
    }

    public Agg add(Event e, Agg a) {
      a.count++;
      a.sum += e.amount;
      a.min = Math.min(a.min, e.amount);
      a.max = Math.max(a.max, e.amount);
      a.devices.update(e.device);
      a.amounts.accept(e.amount);
      return a;
    }

    public Agg getResult(Agg a) {
      return a;
    }

    public Agg merge(Agg a, Agg b) {
      throw new UnsupportedOperationException("tumbling windows do not merge");
    }
  }

  /** The final result of one window, as JSON (the same fields as the Kafka Streams peer writes). */
  static final class Emit extends ProcessWindowFunction<Agg, String, String, TimeWindow> {
    public void process(String key, Context ctx, Iterable<Agg> in, Collector<String> out) {
      Agg a = in.iterator().next();
      aggregated.addAndGet(a.count);
      windows.incrementAndGet();
      double[] q = a.amounts.getValuesAtQuantiles(new double[] {0.5, 0.95, 0.99});
      out.collect("{\"key\":\"" + key + "\",\"start\":" + ctx.window().getStart() + ",\"end\":" + ctx.window().getEnd()
          + ",\"count\":" + a.count + ",\"sum\":" + a.sum + ",\"min\":" + a.min + ",\"max\":" + a.max
          + ",\"distinct\":" + Math.round(a.devices.getEstimate()) + ",\"p50\":" + q[0] + ",\"p95\":" + q[1]
          + ",\"p99\":" + q[2] + "}");
    }
  }

  static final class ByUser implements KeySelector<Event, String> {
    public String getKey(Event e) {
      return e.user;
    }
  }

  /** Key `user@start` (as the Kafka Streams peer), value the result's JSON. */
  static final class KeyOf implements SerializationSchema<String> {
    public byte[] serialize(String json) {
      int k = json.indexOf("\"key\":\"") + 7;
      int s = json.indexOf("\"start\":") + 8;
      return (json.substring(k, json.indexOf('"', k)) + "@" + json.substring(s, json.indexOf(',', s)))
          .getBytes(StandardCharsets.UTF_8);
    }
  }

  public static void main(String[] args) throws Exception {
    String brokers = args[0], topic = args[1], appId = args[2], checkpointDir = args[3];
    int parallelism = Integer.parseInt(args[4]);
    String output = topic + ".flink-windows";

    Properties ap = new Properties();
    ap.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, brokers);
    try (Admin admin = Admin.create(ap)) {
      int partitions = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions().size();
      try {
        admin.createTopics(List.of(new NewTopic(output, partitions, (short) 1))).all().get();
      } catch (java.util.concurrent.ExecutionException e) {
        if (!(e.getCause() instanceof org.apache.kafka.common.errors.TopicExistsException)) throw e;
      }
    }

    Configuration conf = new Configuration();
    conf.setString("taskmanager.memory.managed.size", "64m"); // the HashMap backend keeps state on the heap
    conf.setString("rest.bind-port", "0");
    conf.setString("restart-strategy.type", "none"); // a failure ends the run (and the bench says why)
    StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(parallelism, conf);
    env.getConfig().enableObjectReuse();
    env.getConfig().registerTypeWithKryoSerializer(Agg.class, AggKryo.class);
    env.setStateBackend(new HashMapStateBackend());
    env.enableCheckpointing(1000, CheckpointingMode.EXACTLY_ONCE);
    env.getCheckpointConfig().setCheckpointStorage("file://" + checkpointDir);

    KafkaSource<Event> source = KafkaSource.<Event>builder()
        .setBootstrapServers(brokers)
        .setTopics(topic)
        .setGroupId(appId)
        .setStartingOffsets(OffsetsInitializer.earliest())
        .setBounded(OffsetsInitializer.latest())
        .setDeserializer(new Parse())
        .build();
    KafkaSink<String> sink = KafkaSink.<String>builder()
        .setBootstrapServers(brokers)
        .setRecordSerializer(KafkaRecordSerializationSchema.builder()
            .setTopic(output)
            .setKeySerializationSchema(new KeyOf())
            .setValueSerializationSchema((SerializationSchema<String>) s -> s.getBytes(StandardCharsets.UTF_8))
            .build())
        .setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
        .setTransactionalIdPrefix(appId)
        // Within the broker's transaction.max.timeout.ms (15 min); the sink's default (1 h) is refused.
        .setProperty("transaction.timeout.ms", "600000")
        .build();

    env.fromSource(source,
            WatermarkStrategy.<Event>forBoundedOutOfOrderness(Duration.ofSeconds(5))
                .withTimestampAssigner((e, t) -> e.ts),
            "kafka")
        .keyBy(new ByUser())
        .window(TumblingEventTimeWindows.of(Duration.ofMinutes(1)))
        .aggregate(new Aggregate(), new Emit(), TypeInformation.of(Agg.class), TypeInformation.of(Agg.class),
            TypeInformation.of(String.class))
        .sinkTo(sink);

    long started = System.nanoTime();
    JobClient job = env.executeAsync("mercury-flink-peer");
    while (job.getJobStatus().get() != JobStatus.RUNNING) {
      if (job.getJobStatus().get().isGloballyTerminalState()) break;
      Thread.sleep(20);
    }
    long runningAt = System.nanoTime();
    job.getJobExecutionResult().get();
    long doneAt = System.nanoTime();
    double seconds = (doneAt - runningAt) / 1e9;
    double withStart = (doneAt - started) / 1e9;
    System.out.printf(
        "{\"events\":%d,\"aggregated\":%d,\"windows\":%d,\"seconds\":%.2f,\"eventsPerSec\":%d,\"secondsWithStart\":%.2f,"
            + "\"parallelism\":%d,\"stateBackend\":\"hashmap\",\"flink\":\"1.20.3\",\"outputTopic\":\"%s\"}%n",
        events.get(), aggregated.get(), windows.get(), seconds, Math.round(events.get() / seconds), withStart,
        parallelism, output);
    System.exit(0);
  }
}
