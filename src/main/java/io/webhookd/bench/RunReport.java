package io.webhookd.bench;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.HdrHistogram.Histogram;

/** The figures of one load generator run, as text for people and JSON for scripts. */
final class RunReport {

  /** The warm-up the run had (longer than {@code --warmup} when it settled), and whether the answers caught up. */
  record Warmup(double seconds, boolean steady) {
  }

  private final LoadGenerator options;
  private final Warmup warmup;
  private final SyntheticEvents events;
  private final long planned;
  private final Histogram latency = new Histogram(Lane.HIGHEST_NANOS, 3);
  private long sent;
  private long acknowledged;
  private long measured;
  private long measuredAcknowledged;
  private long measuredErrors;
  private long signedInline;
  private final long unfinished;
  private final Map<String, Long> statusErrors = new TreeMap<>();
  private final Map<String, Long> failures = new TreeMap<>();
  private final double[] pacerLag;
  private final double generatorCores;
  private final double serverCores;
  private final ProcessSample generatorAfter;
  private final ProcessSample serverAfter;
  private final double machineCores;
  /** The database and cache servers' CPU (NaN when not measured). */
  private final double backendCores;
  private final long serverDiskWrites;
  /** The server's CPU per 2xx by what its threads do (empty when not measured). */
  private final Map<String, Double> serverThreads;

  RunReport(LoadGenerator options, Warmup warmup, SyntheticEvents events, long planned, List<Lane.Result> lanes,
      long unfinished, double[] pacerLag,
      ProcessSample generatorBefore, ProcessSample generatorAfter,
      ProcessSample serverBefore, ProcessSample serverAfter, ThreadCpu serverThreadsBefore,
      ThreadCpu serverThreadsAfter, double machineCores, double backendCores) {
    this.options = options;
    this.warmup = warmup;
    this.events = events;
    this.planned = planned;
    for (Lane.Result lane : lanes) {
      latency.add(lane.latency());
      sent += lane.sent();
      acknowledged += lane.acknowledged();
      measured += lane.measured();
      measuredAcknowledged += lane.measuredAcknowledged();
      measuredErrors += lane.measuredErrors();
      signedInline += lane.signedInline();
      lane.statusErrors().forEach((k, v) -> statusErrors.merge(k, v, Long::sum));
      lane.failures().forEach((k, v) -> failures.merge(k, v, Long::sum));
    }
    this.unfinished = unfinished;
    this.pacerLag = pacerLag;
    this.generatorCores = ProcessSample.cores(generatorBefore, generatorAfter);
    this.serverCores = ProcessSample.cores(serverBefore, serverAfter);
    this.serverDiskWrites = ProcessSample.diskWrites(serverBefore, serverAfter);
    this.generatorAfter = generatorAfter;
    this.serverAfter = serverAfter;
    this.machineCores = machineCores;
    this.backendCores = backendCores;
    this.serverThreads = ThreadCpu.microsPerEvent(serverThreadsBefore, serverThreadsAfter, measuredAcknowledged);
  }

  /** 2xx answers over the whole run, warm-up included. */
  long acknowledged() {
    return acknowledged;
  }

  private double seconds() {
    return options.duration.toNanos() / 1e9;
  }

  private long statusErrorCount() {
    return statusErrors.values().stream().mapToLong(Long::longValue).sum();
  }

  private long failureCount() {
    return failures.values().stream().mapToLong(Long::longValue).sum();
  }

  private static double ms(long nanos) {
    return nanos / 1e6;
  }

  private double percentileMs(double p) {
    return latency.getTotalCount() == 0 ? Double.NaN : ms(latency.getValueAtPercentile(p));
  }

  JsonObject toJson() {
    JsonObject json = new JsonObject()
        .put("mode", options.mode.name())
        .put("url", options.url.toString())
        .put("event_type", options.eventType)
        .put("connections", options.connections)
        .put("threads", options.threads)
        .put("warmup_s", warmup.seconds())
        .put("steady_at_start", warmup.steady())
        .put("duration_s", seconds());
    if (options.mode == LoadGenerator.Mode.rate) {
      json.put("target_rate", options.rate);
    }
    json.put("measured", new JsonObject()
            .put("requests", measured)
            .put("acknowledged", measuredAcknowledged)
            .put("errors", measuredErrors)
            .put("requests_per_s", round(measured / seconds()))
            .put("acknowledged_per_s", round(measuredAcknowledged / seconds())))
        .put("latency_ms", new JsonObject()
            .put("from", options.mode == LoadGenerator.Mode.rate ? "scheduled send time" : "actual send time")
            .put("count", latency.getTotalCount())
            .put("mean", round3(latency.getTotalCount() == 0 ? Double.NaN : latency.getMean() / 1e6))
            .put("p50", round3(percentileMs(50)))
            .put("p90", round3(percentileMs(90)))
            .put("p99", round3(percentileMs(99)))
            .put("p99_9", round3(percentileMs(99.9)))
            .put("p99_99", round3(percentileMs(99.99)))
            .put("max", round3(latency.getTotalCount() == 0 ? Double.NaN : ms(latency.getMaxValue()))))
        .put("totals", new JsonObject()
            .put("sent", sent)
            .put("acknowledged", acknowledged)
            .put("non_2xx", statusErrorCount())
            .put("failed", failureCount())
            .put("unfinished", unfinished))
        .put("errors", new JsonObject()
            .put("by_status", new JsonObject(new TreeMap<String, Object>(statusErrors)))
            .put("by_failure", new JsonObject(new TreeMap<String, Object>(failures))))
        .put("generator", new JsonObject()
            .put("planned", planned)
            .put("presigned", events.presignedCount())
            .put("signed_while_sending", signedInline)
            .put("body_bytes", events.bodyLength())
            .put("cpu_cores", round3(generatorCores))
            .put("rss_kb", generatorAfter == null ? null : generatorAfter.rssKb())
            .put("pacer_lag_mean_ms", pacerLag == null ? null : round3(pacerLag[0] / 1e6))
            .put("pacer_lag_max_ms", pacerLag == null ? null : round3(pacerLag[1] / 1e6)));
    json.put("machine", new JsonObject()
        .put("cores", Runtime.getRuntime().availableProcessors())
        .put("busy_cores", round3(machineCores))
        .put("other_processes_cores", round3(others())));
    if (!Double.isNaN(backendCores)) {
      json.put("backends", new JsonObject()
          .put("pids", new JsonArray(new ArrayList<Object>(options.backendPids)))
          .put("cpu_cores", round3(backendCores))
          .put("cpu_us_per_ack", measuredAcknowledged == 0 ? null
              : round(backendCores * 1e6 * seconds() / measuredAcknowledged)));
    }
    if (serverAfter != null) {
      json.put("server", new JsonObject()
          .put("pid", options.serverPid)
          .put("cpu_cores", round3(serverCores))
          .put("cpu_us_per_ack", measuredAcknowledged == 0 ? null
              : round(serverCores * 1e6 * seconds() / measuredAcknowledged))
          .put("disk_write_mb_per_s", serverDiskWrites < 0 ? null : round(serverDiskWrites / 1e6 / seconds()))
          .put("disk_write_kb_per_ack", serverDiskWrites < 0 || measuredAcknowledged == 0 ? null
              : round(serverDiskWrites / 1e3 / measuredAcknowledged))
          .put("cpu_us_per_ack_by_thread", serverThreads.isEmpty() ? null : byThread())
          .put("rss_kb", serverAfter.rssKb())
          .put("peak_rss_kb", serverAfter.hwmKb()));
    }
    return json;
  }

  private JsonObject byThread() {
    JsonObject byThread = new JsonObject();
    serverThreads.forEach((role, micros) -> byThread.put(role, round(micros)));
    return byThread;
  }

  String toText() {
    StringBuilder out = new StringBuilder();
    boolean rate = options.mode == LoadGenerator.Mode.rate;
    line(out, "mode %s%s, %s, %d connections, %d generator thread(s), %s warmup%s + %s measured",
        options.mode, rate ? String.format(Locale.ROOT, " at %,.0f req/s", options.rate) : "", options.eventType,
        options.connections, options.threads, pretty(Math.round(warmup.seconds() * 1000)),
        options.settle.isZero() ? "" : warmup.steady() ? " (until steady)" : " (never steady: measured anyway)",
        pretty(options.duration.toMillis()));
    line(out, "  measured requests   %,d (%,.0f req/s), acknowledged 2xx %,d (%,.0f/s), errors %,d",
        measured, measured / seconds(), measuredAcknowledged, measuredAcknowledged / seconds(), measuredErrors);
    line(out, "  latency (ms, from %s): p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  max %.3f",
        rate ? "scheduled time" : "send", percentileMs(50), percentileMs(90), percentileMs(99),
        percentileMs(99.9), latency.getTotalCount() == 0 ? Double.NaN : ms(latency.getMaxValue()));
    line(out, "  whole run: sent %,d, 2xx %,d, non-2xx %,d %s, failed %,d %s, unanswered %,d",
        sent, acknowledged, statusErrorCount(), statusErrors.isEmpty() ? "" : statusErrors,
        failureCount(), failures.isEmpty() ? "" : failures, unfinished);
    line(out, "  generator: %.2f cores, %,d presigned, %,d signed while sending%s", generatorCores,
        events.presignedCount(), signedInline, pacerLag == null ? ""
            : String.format(Locale.ROOT, ", pacer lag mean %.3f ms max %.3f ms", pacerLag[0] / 1e6, pacerLag[1] / 1e6));
    if (serverAfter != null) {
      line(out, "  server pid %d: %.2f cores (%.0f us CPU per 2xx), writes %.1f MB/s to disk (%.1f kB per 2xx), "
              + "RSS %,d KiB, peak RSS %,d KiB", options.serverPid, serverCores,
          measuredAcknowledged == 0 ? Double.NaN : serverCores * 1e6 * seconds() / measuredAcknowledged,
          serverDiskWrites < 0 ? Double.NaN : serverDiskWrites / 1e6 / seconds(),
          serverDiskWrites < 0 || measuredAcknowledged == 0
              ? Double.NaN : serverDiskWrites / 1e3 / measuredAcknowledged,
          serverAfter.rssKb(), serverAfter.hwmKb());
      if (!serverThreads.isEmpty()) {
        StringBuilder threads = new StringBuilder();
        serverThreads.forEach((role, micros) ->
            threads.append(String.format(Locale.ROOT, ", %s %.0f", role, micros)));
        line(out, "  server threads, us CPU per 2xx: %s", threads.substring(2));
      }
    }
    if (!Double.isNaN(backendCores)) {
      line(out, "  backends (pids %s): %.2f cores (%.0f us CPU per 2xx)", options.backendPids, backendCores,
          measuredAcknowledged == 0 ? Double.NaN : backendCores * 1e6 * seconds() / measuredAcknowledged);
    }
    line(out, "  machine: %.2f of %d cores busy during the measured phase%s", machineCores,
        Runtime.getRuntime().availableProcessors(), Double.isNaN(others()) ? ""
            : String.format(Locale.ROOT, ", %.2f by other processes (should be about 0)", others()));
    return out.toString();
  }

  /** Cores used by neither the server, its backends nor this generator: noise from the rest of the machine. */
  private double others() {
    return Double.isNaN(serverCores) ? Double.NaN
        : Math.max(0, machineCores - serverCores - generatorCores - (Double.isNaN(backendCores) ? 0 : backendCores));
  }

  private static void line(StringBuilder out, String format, Object... args) {
    out.append(String.format(Locale.ROOT, format, args)).append('\n');
  }

  private static String pretty(long millis) {
    return millis % 1000 == 0 ? (millis / 1000) + "s" : millis + "ms";
  }

  private static Double round(double value) {
    return Double.isNaN(value) ? null : Math.round(value * 10) / 10.0;
  }

  private static Double round3(double value) {
    return Double.isNaN(value) ? null : Math.round(value * 1000) / 1000.0;
  }
}
