// The processing peer of `deno task bench:stream`: the same pipeline in Kafka Streams
// (org.apache.kafka:kafka-streams, the jars of pom.xml beside this file), exactly-once v2.
//
//   parse and validate (Jackson) → key by user (the records' key: no repartition)
//   → tumbling 1-minute event-time windows, 5 s grace (= Mercury's 5 s bound on
//     disorder, 0 allowed lateness) → count, sum, min, max, distinct devices
//     (Apache DataSketches HLL, 2^10 registers), percentiles (Datadog's DDSketch for
//     Java, 2 % relative accuracy): the same sketches as Mercury's aggregates
//   → final window results only (suppress until the window closes) → a results topic,
//     one JSON value per window (key, start, end, count, sum, min, max, distinct, p50, p95, p99).
//
// The DSL's `aggregate` keeps the aggregate in its store as bytes: every event reads
// the window's aggregate through the record cache, deserialises it, adds the event
// and serialises it back (here the sketches' compact forms, small for small windows).
//
// Mercury's pipeline also joins each event with a Redis dimension table; this one
// does not (it is the lighter of the two). Throughput is measured the way the bench
// measures Mercury's worker: from the moment the application is RUNNING (partitions
// assigned) until its committed offsets reach the end of the input topic.
//
// usage: java -cp 'libs/*:classes' StreamsPeer BROKERS TOPIC APP_ID STATE_DIR THREADS CACHE_MB
// prints one JSON line: {"events":…,"aggregated":…,"seconds":…,"eventsPerSec":…,"threads":…}
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.datadoghq.sketch.ddsketch.DDSketch;
import com.datadoghq.sketch.ddsketch.DDSketches;
import com.datadoghq.sketch.ddsketch.encoding.ByteArrayInput;
import com.datadoghq.sketch.ddsketch.encoding.GrowingByteArrayOutput;
import com.datadoghq.sketch.ddsketch.store.UnboundedSizeDenseStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import org.apache.datasketches.hll.HllSketch;
import org.apache.datasketches.hll.TgtHllType;
import org.apache.datasketches.memory.Memory;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Suppressed;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.processor.TimestampExtractor;

public final class StreamsPeer {
  static final ObjectMapper JSON = new ObjectMapper();
  static final double ACCURACY = 0.02;
  static final int HLL_LG_K = 10;
  static final AtomicLong aggregated = new AtomicLong();

  /** A parsed, valid event (null for a malformed one). */
  record Event(String user, String device, double amount, long ts) {}

  static Event parse(byte[] value) {
    try {
      JsonNode n = JSON.readTree(value);
      JsonNode id = n.get("id"), user = n.get("user"), device = n.get("device"), amount = n.get("amount"), ts = n.get("ts");
      if (id == null || !id.isTextual() || user == null || !user.isTextual() || device == null || !device.isTextual()) return null;
      if (amount == null || !amount.isNumber() || ts == null || !ts.canConvertToLong() || ts.asLong() < 0) return null;
      return new Event(user.asText(), device.asText(), amount.asDouble(), ts.asLong());
    } catch (IOException e) {
      return null;
    }
  }

  /** Event time from the value (a malformed record gets -1, which Kafka Streams drops and counts). */
  static final class EventTime implements TimestampExtractor {
    public long extract(ConsumerRecord<Object, Object> r, long partitionTime) {
      byte[] v = (byte[]) r.value();
      if (v == null) return -1;
      for (int i = v.length - 6; i >= 0; i--) {
        if (v[i] == ',' && v[i + 1] == '"' && v[i + 2] == 't' && v[i + 3] == 's' && v[i + 4] == '"' && v[i + 5] == ':') {
          long ts = 0;
          int j = i + 6, start = j;
          while (j < v.length && v[j] >= '0' && v[j] <= '9') ts = ts * 10 + (v[j++] - '0');
          return j > start ? ts : -1;
        }
      }
      return -1;
    }
  }

  /**
   * The window aggregate, as Mercury's: count, sum, min, max, distinct devices (Apache DataSketches' HllSketch with 2^10
   * registers, Mercury's HyperLogLog precision), percentiles (Datadog's DDSketch for Java, logarithmic mapping, 2 %
   * relative accuracy: the sketch Mercury's QuantileSketch ports).
   */
  static final class Agg {
    long count;
    double sum, min = Double.POSITIVE_INFINITY, max = Double.NEGATIVE_INFINITY;
    HllSketch devices = new HllSketch(HLL_LG_K, TgtHllType.HLL_8);
    DDSketch amounts = DDSketches.logarithmicUnboundedDense(ACCURACY);

    Agg add(Event e) {
      aggregated.incrementAndGet();
      count++;
      sum += e.amount();
      min = Math.min(min, e.amount());
      max = Math.max(max, e.amount());
      devices.update(e.device());
      amounts.accept(e.amount());
      return this;
    }

    /** The final result, the same fields as the Flink peer writes. */
    String toJson(String key, long start, long end) {
      double[] q = amounts.getValuesAtQuantiles(new double[] {0.5, 0.95, 0.99});
      return "{\"key\":\"" + key + "\",\"start\":" + start + ",\"end\":" + end + ",\"count\":" + count + ",\"sum\":"
          + sum + ",\"min\":" + min + ",\"max\":" + max + ",\"distinct\":" + Math.round(devices.getEstimate())
          + ",\"p50\":" + q[0] + ",\"p95\":" + q[1] + ",\"p99\":" + q[2] + "}";
    }
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

  /** The aggregate in the store: the sketches' compact binary forms (what Mercury checkpoints, as JSON). */
  static final class AggSerde implements Serde<Agg> {
    public Serializer<Agg> serializer() {
      return (topic, a) -> {
        byte[] h = a.devices.toCompactByteArray();
        byte[] d = encode(a.amounts);
        ByteBuffer out = ByteBuffer.allocate(40 + h.length + d.length);
        out.putLong(a.count).putDouble(a.sum).putDouble(a.min).putDouble(a.max);
        out.putInt(h.length).put(h).putInt(d.length).put(d);
        return out.array();
      };
    }

    public Deserializer<Agg> deserializer() {
      return (topic, data) -> {
        if (data == null) return null;
        ByteBuffer in = ByteBuffer.wrap(data);
        Agg a = new Agg();
        a.count = in.getLong();
        a.sum = in.getDouble();
        a.min = in.getDouble();
        a.max = in.getDouble();
        int hl = in.getInt();
        a.devices = HllSketch.heapify(Memory.wrap(data).region(in.position(), hl));
        in.position(in.position() + hl);
        int dl = in.getInt();
        try {
          a.amounts = DDSketch.decode(
              ByteArrayInput.wrap(Arrays.copyOfRange(data, in.position(), in.position() + dl)),
              UnboundedSizeDenseStore::new);
        } catch (IOException e) {
          throw new RuntimeException(e);
        }
        return a;
      };
    }
  }

  public static void main(String[] args) throws Exception {
    String brokers = args[0], topic = args[1], appId = args[2], stateDir = args[3];
    int threads = Integer.parseInt(args[4]);
    long cacheMb = Long.parseLong(args[5]);

    StreamsBuilder b = new StreamsBuilder();
    b.stream(topic, Consumed.with(Serdes.String(), Serdes.ByteArray()).withTimestampExtractor(new EventTime()))
        .mapValues(StreamsPeer::parse)
        .filter((k, e) -> e != null)
        .groupByKey(Grouped.with(Serdes.String(), Serdes.serdeFrom((t, e) -> new byte[0], (t, d) -> null)))
        .windowedBy(TimeWindows.ofSizeAndGrace(Duration.ofMinutes(1), Duration.ofSeconds(5)))
        .aggregate(Agg::new, (k, e, a) -> a.add(e), Materialized.with(Serdes.String(), new AggSerde()))
        .suppress(Suppressed.untilWindowCloses(Suppressed.BufferConfig.unbounded()))
        .toStream()
        .map((w, a) -> KeyValue.pair(w.key() + "@" + w.window().start(), a.toJson(w.key(), w.window().start(), w.window().end())))
        .to(topic + ".peer-windows", Produced.with(Serdes.String(), Serdes.String()));

    Properties p = new Properties();
    p.put(StreamsConfig.APPLICATION_ID_CONFIG, appId);
    p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, brokers);
    p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 1000); // Mercury's worker checkpoints every second too
    p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, threads);
    p.put(StreamsConfig.STATE_DIR_CONFIG, stateDir);
    // The record cache in front of the window store (default 10 MB): a bigger one sends fewer
    // updates to RocksDB and the changelog. The bench gives it room for every open window.
    p.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, cacheMb * 1024 * 1024);
    p.put(StreamsConfig.ENSURE_EXPLICIT_INTERNAL_RESOURCE_NAMING_CONFIG, false);
    p.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, 1);
    p.put(StreamsConfig.consumerPrefix("auto.offset.reset"), "earliest");

    // The input's end offsets: done when the application's committed offsets reach them.
    Map<TopicPartition, Long> end;
    Properties ap = new Properties();
    ap.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, brokers);
    try (Admin admin = Admin.create(ap)) {
      var parts = admin.describeTopics(java.util.List.of(topic)).allTopicNames().get().get(topic).partitions();
      end = admin.listOffsets(parts.stream().collect(Collectors.toMap(
          x -> new TopicPartition(topic, x.partition()), x -> OffsetSpec.latest()))).all().get().entrySet().stream()
          .collect(Collectors.toMap(Map.Entry::getKey, x -> x.getValue().offset()));
      long total = end.values().stream().mapToLong(Long::longValue).sum();
      // The results topic up front (a backlog whose windows never close writes none; the bench still reads it).
      try {
        admin.createTopics(java.util.List.of(new NewTopic(topic + ".peer-windows", parts.size(), (short) 1))).all().get();
      } catch (java.util.concurrent.ExecutionException e) {
        if (!(e.getCause() instanceof org.apache.kafka.common.errors.TopicExistsException)) throw e;
      }

      CountDownLatch running = new CountDownLatch(1);
      KafkaStreams streams = new KafkaStreams(b.build(), p);
      streams.setStateListener((now, before) -> {
        // A failure before RUNNING must not leave the peer waiting for it.
        if (now == KafkaStreams.State.RUNNING || now == KafkaStreams.State.PENDING_ERROR
            || now == KafkaStreams.State.ERROR || now == KafkaStreams.State.PENDING_SHUTDOWN) running.countDown();
      });
      long started = System.nanoTime();
      streams.start();
      running.await();
      long runningAt = System.nanoTime();
      long doneAt;
      while (true) {
        Thread.sleep(50);
        Map<TopicPartition, OffsetAndMetadata> committed =
            admin.listConsumerGroupOffsets(appId).partitionsToOffsetAndMetadata().get();
        boolean done = end.entrySet().stream().allMatch(x -> {
          OffsetAndMetadata c = committed.get(x.getKey());
          return x.getValue() == 0 || (c != null && c.offset() >= x.getValue());
        });
        if (done) {
          doneAt = System.nanoTime();
          break;
        }
        if (!streams.state().isRunningOrRebalancing()) {
          System.err.println("Kafka Streams stopped (" + streams.state() + ") before the end of the input");
          streams.close(Duration.ofSeconds(10));
          System.exit(1);
        }
      }
      streams.close(Duration.ofSeconds(30));
      double seconds = (doneAt - runningAt) / 1e9;
      double withStart = (doneAt - started) / 1e9;
      System.out.printf(
          "{\"events\":%d,\"aggregated\":%d,\"seconds\":%.2f,\"eventsPerSec\":%d,\"secondsWithStart\":%.2f,\"threads\":%d,\"cacheMb\":%d}%n",
          total, aggregated.get(), seconds, Math.round(total / seconds), withStart, threads, cacheMb);
    }
  }
}
