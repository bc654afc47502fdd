package io.webhookd.bench;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The closing step of {@code scripts/bench}: reads the load generator's JSON summaries, counts the
 * events the stopped server stored (in its SQLite file, or in its PostgreSQL database), checks that the stored events equal the 2xx
 * acknowledgements (a request that timed out may have been stored: such extras are allowed up to
 * the number of requests never answered), and prints the results table with the targets.
 * Exit status: 0 when the count matches, 1 when it does not; with {@code --strict} also 3 when a
 * target is missed.
 */
@Command(name = "BenchReport", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Checks a benchmark run against the store and prints its results table.")
public final class BenchReport implements Callable<Integer> {

  @Option(names = "--db", description = "The server's webhookd.db (server stopped).")
  Path db;

  @Option(names = "--pg-url",
      description = "Instead of --db: the server's PostgreSQL database, postgresql://user@host:port/db.")
  String pgUrl;

  @Option(names = "--result", required = true,
      description = "LABEL=FILE: a LoadGenerator --json summary; repeat for each phase.")
  Map<String, Path> results = new LinkedHashMap<>();

  @Option(names = "--warmup-result",
      description = "A LoadGenerator --json summary of an unmeasured warm-up run: only counted in the check.")
  List<Path> warmups = new ArrayList<>();

  @Option(names = "--peak-rss-kb", description = "The server's VmHWM at the end, in KiB.")
  long peakRssKb = -1;

  @Option(names = "--min-throughput",
      description = "Target, acknowledged webhooks/s in max mode (default: ${DEFAULT-VALUE}).")
  double minThroughput = 20_000;

  @Option(names = "--max-p99-ms", description = "Target, p99 in rate mode (default: ${DEFAULT-VALUE}).")
  double maxP99Ms = 10;

  @Option(names = "--target-rate", description = "The rate the p99 target is set at (default: ${DEFAULT-VALUE}).")
  double targetRate = 5_000;

  @Option(names = "--strict", description = "Exit 3 when a target is missed.")
  boolean strict;

  public static void main(String[] args) {
    System.exit(new CommandLine(new BenchReport()).execute(args));
  }

  @Override
  public Integer call() throws IOException, SQLException {
    List<String> verdicts = new ArrayList<>();
    boolean targetsMet = true;
    long acknowledged = 0;
    long unanswered = 0;
    long failed = 0;
    StringBuilder table = new StringBuilder();
    if ((db == null) == (pgUrl == null)) {
      System.err.println("BenchReport: give either --db or --pg-url");
      return 2;
    }
    Map<String, JsonObject> parsed = new LinkedHashMap<>();
    for (Map.Entry<String, Path> entry : results.entrySet()) {
      parsed.put(entry.getKey(), new JsonObject(Files.readString(entry.getValue())));
    }
    // The database and cache servers' CPU, when the run measured it (PostgreSQL + Redis).
    boolean backends = parsed.values().stream().anyMatch(r -> r.getJsonObject("backends") != null);
    table.append("| phase | load | measured 2xx/s | p50 ms | p99 ms | p99.9 ms | max ms "
        + "| errors (measured / whole run) "
        + "| server CPU cores (µs per 2xx) | server disk writes kB per 2xx "
        + (backends ? "| PostgreSQL + Redis CPU cores (µs per 2xx) " : "")
        + "| generator CPU | other processes' CPU |\n");
    table.append("|---|---|---:|---:|---:|---:|---:|---|---:|---:|" + (backends ? "---:|" : "") + "---:|---:|\n");
    for (Map.Entry<String, JsonObject> entry : parsed.entrySet()) {
      JsonObject r = entry.getValue();
      JsonObject measured = r.getJsonObject("measured");
      JsonObject latency = r.getJsonObject("latency_ms");
      JsonObject totals = r.getJsonObject("totals");
      JsonObject errors = r.getJsonObject("errors");
      JsonObject server = r.getJsonObject("server", new JsonObject());
      JsonObject generator = r.getJsonObject("generator");
      JsonObject machine = r.getJsonObject("machine", new JsonObject());
      boolean rateMode = "rate".equals(r.getString("mode"));
      acknowledged += totals.getLong("acknowledged");
      unanswered += totals.getLong("unfinished");
      failed += totals.getLong("failed");
      long wholeRunErrors = totals.getLong("non_2xx") + totals.getLong("failed") + totals.getLong("unfinished");
      String load = (rateMode
          ? String.format(Locale.ROOT, "open loop %,.0f req/s, %d conns, after %.0f s warm-up%s", r.getDouble("target_rate"),
              r.getInteger("connections"), r.getDouble("warmup_s"),
              r.getBoolean("steady_at_start", true) ? "" : " (never steady)")
          : String.format(Locale.ROOT, "closed loop, %d conns", r.getInteger("connections")))
          + ", " + r.getString("event_type", "message.received");
      String errorText = measured.getLong("errors") + " / " + wholeRunErrors;
      if (wholeRunErrors > 0) {
        StringBuilder kinds = new StringBuilder();
        errors.getJsonObject("by_status").forEach(e -> kinds.append(", HTTP ").append(e.getKey()).append(": ")
            .append(e.getValue()));
        errors.getJsonObject("by_failure").forEach(e -> kinds.append(", ").append(shortKind(e.getKey()))
            .append(": ").append(e.getValue()));
        if (totals.getLong("unfinished") > 0) {
          kinds.append(", unanswered at the end: ").append(totals.getLong("unfinished"));
        }
        errorText += " (" + kinds.substring(2) + ")";
      }
      JsonObject backend = r.getJsonObject("backends", new JsonObject());
      table.append(String.format(Locale.ROOT, "| %s | %s | %,.0f | %s | %s | %s | %s | %s | %s (%s) | %s | %s%s | %s |%n",
          entry.getKey(), load, measured.getDouble("acknowledged_per_s"),
          num(latency.getValue("p50")), num(latency.getValue("p99")), num(latency.getValue("p99_9")),
          num(latency.getValue("max")), errorText, num(server.getValue("cpu_cores")),
          num(server.getValue("cpu_us_per_ack")), num(server.getValue("disk_write_kb_per_ack")),
          backends ? num(backend.getValue("cpu_cores")) + " (" + num(backend.getValue("cpu_us_per_ack")) + ") | " : "",
          num(generator.getValue("cpu_cores")), num(machine.getValue("other_processes_cores"))));
      if (!rateMode) {
        boolean met = measured.getDouble("acknowledged_per_s") >= minThroughput && measured.getLong("errors") == 0;
        targetsMet &= met;
        verdicts.add(String.format(Locale.ROOT, "%s: %,.0f acknowledged webhooks/s (target >= %,.0f, no errors): %s",
            entry.getKey(), measured.getDouble("acknowledged_per_s"), minThroughput, met ? "MET" : "NOT MET"));
      } else if (r.getDouble("target_rate") >= targetRate) {
        Double p99 = latency.getDouble("p99");
        boolean met = p99 != null && p99 < maxP99Ms && measured.getLong("errors") == 0;
        targetsMet &= met;
        verdicts.add(String.format(Locale.ROOT, "%s: p99 %s ms at %,.0f req/s (target < %s ms, no errors): %s",
            entry.getKey(), num(p99), r.getDouble("target_rate"), num(maxP99Ms), met ? "MET" : "NOT MET"));
      }
    }
    System.out.print(table);
    System.out.println();
    // Where the server's CPU went, by what its threads do (Linux).
    parsed.forEach((phase, r) -> {
      JsonObject byThread = r.getJsonObject("server", new JsonObject()).getJsonObject("cpu_us_per_ack_by_thread");
      if (byThread != null) {
        StringBuilder line = new StringBuilder();
        byThread.forEach(e -> line.append(", ").append(e.getKey()).append(' ').append(num(e.getValue())));
        System.out.printf(Locale.ROOT, "server threads, %s phase, µs CPU per 2xx: %s%n", phase, line.substring(2));
      }
    });
    if (peakRssKb > 0) {
      System.out.printf(Locale.ROOT, "server peak RSS (VmHWM): %,.1f MiB%n", peakRssKb / 1024.0);
    }
    for (String verdict : verdicts) {
      System.out.println("target " + verdict);
    }

    for (Path warmup : warmups) {
      JsonObject totals = new JsonObject(Files.readString(warmup)).getJsonObject("totals");
      acknowledged += totals.getLong("acknowledged");
      unanswered += totals.getLong("unfinished");
      failed += totals.getLong("failed");
    }
    Map<String, Long> byStatus = new LinkedHashMap<>();
    long stored = countStored(byStatus);
    // A request that timed out or lost its connection may still have been committed: its outcome is
    // unknown to the sender (who retries, and the store deduplicates). Anything else must match.
    long unknown = failed + unanswered;
    boolean exact = stored == acknowledged;
    boolean matches = exact || (stored > acknowledged && stored - acknowledged <= unknown);
    System.out.printf(Locale.ROOT, "verification: %,d events stored in %s%s, %,d acknowledged with 2xx: %s%n",
        stored, db != null ? db.getFileName() : "PostgreSQL", byStatus.isEmpty() ? "" : " " + byStatus, acknowledged,
        exact ? "OK, equal" : matches
            ? String.format(Locale.ROOT, "OK, the %,d extra are among the %,d requests whose answer never came "
                + "(timeout or lost connection)", stored - acknowledged, unknown)
            : stored < acknowledged ? "MISMATCH: acknowledged events are missing from the store"
            : String.format(Locale.ROOT, "MISMATCH: %,d more stored than acknowledged, only %,d requests unanswered",
                stored - acknowledged, unknown));
    if (!matches) {
      return 1;
    }
    return strict && !targetsMet ? 3 : 0;
  }

  private long countStored(Map<String, Long> byStatus) throws SQLException {
    try (Connection connection = db != null ? DriverManager.getConnection("jdbc:sqlite:" + db.toAbsolutePath())
        : DriverManager.getConnection("jdbc:" + pgUrl.replaceFirst("^postgres(ql)?://([^@/]*@)?", "postgresql://"),
            pgUser(), null);
         Statement statement = connection.createStatement()) {
      long count;
      try (ResultSet rs = statement.executeQuery("SELECT COUNT(*) FROM inbox_events")) {
        rs.next();
        count = rs.getLong(1);
      }
      try (ResultSet rs = statement.executeQuery(
          "SELECT status, COUNT(*) FROM inbox_events GROUP BY status ORDER BY status")) {
        while (rs.next()) {
          byStatus.put(rs.getString(1), rs.getLong(2));
        }
      } catch (SQLException e) {
        // The schema has no status column (any more): the total is what matters.
        byStatus.clear();
      }
      return count;
    }
  }

  /** The user named in {@code --pg-url} (postgresql://user@host...), or postgres. */
  private String pgUser() {
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("^postgres(?:ql)?://([^@:/]+)[^@/]*@").matcher(pgUrl);
    return m.find() ? m.group(1) : "postgres";
  }

  /** "NoStackTraceTimeoutException: The timeout of ... getting a connection" becomes "timeout (no connection)". */
  private static String shortKind(String kind) {
    String lower = kind.toLowerCase(Locale.ROOT);
    if (lower.contains("timeout")) {
      return lower.contains("getting a connection") ? "timeout waiting for a connection" : "timeout";
    }
    int colon = kind.indexOf(':');
    return colon > 0 ? kind.substring(0, colon) : kind;
  }

  private static String num(Object value) {
    if (value == null) {
      return "-";
    }
    double d = ((Number) value).doubleValue();
    return d >= 100 ? String.format(Locale.ROOT, "%,.0f", d) : String.format(Locale.ROOT, "%.2f", d);
  }
}
