package io.webhookd.observe;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.webhookd.event.EventTypes;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * The service's own metrics, with bounded label values: an event type the service does not know is
 * counted as {@code unknown}, never as whatever string a sender chose. Prometheus names:
 * {@code webhook_received_total}, {@code webhook_processed_total},
 * {@code webhook_processing_seconds}, {@code webhook_queue_size}, {@code webhook_rejected_total},
 * {@code webhook_duplicates_total}, {@code webhook_retries_total}, {@code webhook_dlq_size},
 * {@code webhook_ack_seconds}. Other parts register theirs on {@link #registry()}: the stores'
 * group commits in {@link StoreBatchMetrics}, and gauges and counters through
 * {@link #gauge} and {@link #counter}.
 */
public final class Metrics {

  private static final Set<String> KNOWN_TYPES = EventTypes.all();
  private static final Duration[] SLOS = {
      Duration.ofMillis(1), Duration.ofMillis(2), Duration.ofMillis(5), Duration.ofMillis(10),
      Duration.ofMillis(25), Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250),
      Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofMillis(2500), Duration.ofSeconds(5),
      Duration.ofSeconds(10)};

  private final PrometheusMeterRegistry registry;
  private final ConcurrentHashMap<String, Counter> counters = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Timer> timers = new ConcurrentHashMap<>();
  private final Timer ack;
  private final AtomicLong queueSize = new AtomicLong();
  private final AtomicLong dlqSize = new AtomicLong();
  private final AtomicLong oldestPendingSeconds = new AtomicLong();

  public Metrics() {
    this(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
  }

  public Metrics(PrometheusMeterRegistry registry) {
    this.registry = registry;
    this.ack = Timer.builder("webhook.ack")
        .description("Time from receiving a webhook to answering it")
        .serviceLevelObjectives(SLOS)
        .register(registry);
    Gauge.builder("webhook.queue.size", queueSize, AtomicLong::get)
        .description("Events stored and not yet processed (pending or processing)")
        .register(registry);
    Gauge.builder("webhook.oldest.pending.seconds", oldestPendingSeconds, AtomicLong::get)
        .description("Age of the oldest event stored and not yet processed; 0 when none waits")
        .register(registry);
    Gauge.builder("webhook.dlq.size", dlqSize, AtomicLong::get)
        .description("Events in the dead-letter queue, not yet replayed or discarded")
        .register(registry);
  }

  public PrometheusMeterRegistry registry() {
    return registry;
  }

  /** The type as a label value: known types as they are, anything else {@code unknown}. */
  public static String typeLabel(String type) {
    return type != null && KNOWN_TYPES.contains(type) ? type : "unknown";
  }

  public void received(String type, String source) {
    counter("webhook.received", "Webhooks accepted (authenticated and stored, or duplicates)",
        "type", typeLabel(type), "source", source).increment();
  }

  /** @param reason a fixed code such as invalid_signature, stale_timestamp, invalid_json */
  public void rejected(String reason) {
    counter("webhook.rejected", "Webhooks refused", "reason", reason).increment();
  }

  /** @param tier caffeine, redis or store */
  public void duplicate(String tier) {
    counter("webhook.duplicates", "Duplicate webhooks answered without storing them again", "tier", tier).increment();
  }

  /** @param status processed, ignored, retry, dead */
  public void processed(String type, String status, long nanos) {
    counter("webhook.processed", "Processing outcomes", "type", typeLabel(type), "status", status).increment();
    timers.computeIfAbsent("processing|" + typeLabel(type), key -> Timer.builder("webhook.processing")
            .description("Time to process one event (handler and status change)")
            .tag("type", typeLabel(type))
            .serviceLevelObjectives(SLOS)
            .register(registry))
        .record(nanos, TimeUnit.NANOSECONDS);
  }

  public void retry(String type) {
    counter("webhook.retries", "Processing attempts scheduled again after a transient failure",
        "type", typeLabel(type)).increment();
  }

  public void acknowledged(long nanos) {
    ack.record(nanos, TimeUnit.NANOSECONDS);
  }

  public void queueSize(long size) {
    queueSize.set(size);
  }

  public void oldestPendingSeconds(long seconds) {
    oldestPendingSeconds.set(seconds);
  }

  public void dlqSize(long size) {
    dlqSize.set(size);
  }

  /** Another part's counter, with the same label discipline. */
  public Counter counter(String name, String description, String... tags) {
    return counters.computeIfAbsent(name + String.join("|", tags), key -> Counter.builder(name)
        .description(description).tags(tags).register(registry));
  }

  /** Exposes a value another part keeps. */
  public <T> void gauge(String name, String description, T owner, Function<T, Number> value) {
    Gauge.builder(name, owner, o -> value.apply(o).doubleValue()).description(description).register(registry);
  }
}
