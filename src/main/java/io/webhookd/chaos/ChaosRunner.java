package io.webhookd.chaos;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The chaos run: each scenario starts the packaged jar as real processes with a store of its own,
 * puts steady signed load on it from this process, breaks something, lets processing settle and
 * checks the {@link Ledger}. Prints a report per scenario and in total; exits 1 when anything
 * acknowledged was lost or anything was duplicated (or the soak saw errors or growth), 2 on bad
 * arguments.
 *
 * <pre>
 * java -cp target/webhookd.jar io.webhookd.chaos.ChaosRunner [--quick] [--only kill9-sqlite,soak]
 *     [--rate 150] [--kills 8] [--soak 10m] [--soak-rate 100] [--poison-rate 0.05] [--fault-rate 0.3]
 *     [--jar target/webhookd.jar] [--out target/chaos] [--pg 127.0.0.1:5432] [--redis 127.0.0.1:6379]
 * </pre>
 */
public final class ChaosRunner {

  static final List<String> SCENARIOS = List.of(
      "kill9-sqlite", "kill9-pg", "two-instances", "redis-cut", "pg-cut", "dlq", "faults", "soak");

  /** The soak's growth allowance: RSS may grow by max(5 %, 16 MiB), heap in use by max(10 %, 8 MiB). */
  static final double RSS_RELATIVE = 0.05;
  static final double RSS_ABSOLUTE_MIB = 16;
  static final double HEAP_RELATIVE = 0.10;
  static final double HEAP_ABSOLUTE_MIB = 8;

  private boolean quick;
  private List<String> only = SCENARIOS;
  private double rate = 150;
  private int threads = 32;
  private int kills = 8;
  private Duration soak = Duration.ofMinutes(10);
  private double soakRate = 100;
  private double poisonRate = 0.05;
  private double faultRate = 0.3;
  private Path jar = Path.of("target", "webhookd.jar");
  private Path out = Path.of("target", "chaos");
  private String pgHost = "127.0.0.1";
  private int pgPort = 5432;
  private String redisHost = "127.0.0.1";
  private int redisPort = 6379;

  private final List<Row> rows = new ArrayList<>();

  /** One scenario's line in the report. */
  record Row(String name, Ledger.Result result, long sent, long attempts, double p99, long maxRssKb, String failures,
      long retries, long deadLettered, String notes, boolean extraFailure) {
    boolean ok() {
      return result != null && result.lost.isEmpty() && result.duplicated.isEmpty() && !extraFailure;
    }
  }

  public static void main(String[] args) throws Exception {
    ChaosRunner runner = new ChaosRunner();
    String problem = runner.parse(args);
    if (problem != null) {
      System.err.println("ChaosRunner: " + problem);
      System.exit(2);
    }
    System.exit(runner.run());
  }

  private String parse(String[] args) {
    boolean killsSet = false;
    boolean soakSet = false;
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      String v = i + 1 < args.length ? args[i + 1] : null;
      try {
        switch (a) {
          case "--quick" -> quick = true;
          case "--only" -> {
            only = List.of(v.split(","));
            for (String s : only) {
              if (!SCENARIOS.contains(s)) {
                return "unknown scenario " + s + "; known: " + SCENARIOS;
              }
            }
            i++;
          }
          case "--rate" -> { rate = Double.parseDouble(v); i++; }
          case "--threads" -> { threads = Integer.parseInt(v); i++; }
          case "--kills" -> { kills = Integer.parseInt(v); killsSet = true; i++; }
          case "--soak" -> { soak = duration(v); soakSet = true; i++; }
          case "--soak-rate" -> { soakRate = Double.parseDouble(v); i++; }
          case "--poison-rate" -> { poisonRate = Double.parseDouble(v); i++; }
          case "--fault-rate" -> { faultRate = Double.parseDouble(v); i++; }
          case "--jar" -> { jar = Path.of(v); i++; }
          case "--out" -> { out = Path.of(v); i++; }
          case "--pg" -> { pgHost = v.split(":")[0]; pgPort = Integer.parseInt(v.split(":")[1]); i++; }
          case "--redis" -> { redisHost = v.split(":")[0]; redisPort = Integer.parseInt(v.split(":")[1]); i++; }
          case "-h", "--help" -> {
            return "usage: ChaosRunner [--quick] [--only " + String.join(",", SCENARIOS) + "] [--rate N] [--threads N]"
                + " [--kills N] [--soak 10m] [--soak-rate N] [--poison-rate F] [--fault-rate F] [--jar PATH] [--out DIR]"
                + " [--pg HOST:PORT] [--redis HOST:PORT]";
          }
          default -> {
            return "unknown argument " + a + " (--help)";
          }
        }
      } catch (RuntimeException e) {
        return "bad value for " + a + ": " + v;
      }
    }
    if (quick) {
      if (!killsSet) {
        kills = 5;
      }
      if (!soakSet) {
        soak = Duration.ofMinutes(1);
      }
    }
    if (!"127.0.0.1".equals(pgHost) && !"localhost".equals(pgHost) || !"127.0.0.1".equals(redisHost)
        && !"localhost".equals(redisHost)) {
      return "PostgreSQL and Redis must be on this machine's loopback";
    }
    if (rate <= 0 || rate > 2000 || soakRate <= 0 || soakRate > 2000 || threads < 1 || threads > 128
        || !(poisonRate >= 0 && poisonRate <= 0.5) || !(faultRate > 0 && faultRate <= 1) || kills < 1 || kills > 50
        || soak.compareTo(Duration.ofSeconds(30)) < 0 || soak.compareTo(Duration.ofHours(2)) > 0) {
      return "a value is out of range (rate 0-2000, threads 1-128, poison-rate 0-0.5, fault-rate above 0 up to 1,"
          + " kills 1-50, soak 30s-2h)";
    }
    if (!Files.isRegularFile(jar)) {
      return "no jar at " + jar.toAbsolutePath() + " (mvn -B -q -DskipTests package)";
    }
    jar = jar.toAbsolutePath();
    return null;
  }

  private int run() throws Exception {
    Path runDir = out.resolve(Instant.now().toString().replace(':', '-').substring(0, 19)).toAbsolutePath();
    Files.createDirectories(runDir);
    log("chaos run%s, scenarios %s, logs and data under %s", quick ? " (quick)" : "", only, runDir);
    CpuShare runStart = CpuShare.now();
    for (String name : only) {
      Path dir = runDir.resolve(name);
      Files.createDirectories(dir);
      log("== %s", name);
      long started = System.nanoTime();
      CpuShare cpuStart = CpuShare.now();
      try {
        switch (name) {
          case "kill9-sqlite" -> kill9(name, dir, false);
          case "kill9-pg" -> kill9(name, dir, true);
          case "two-instances" -> twoInstances(name, dir);
          case "redis-cut" -> cut(name, dir, true);
          case "pg-cut" -> cut(name, dir, false);
          case "dlq" -> dlq(name, dir);
          case "faults" -> faults(name, dir);
          case "soak" -> soak(name, dir);
          default -> throw new IllegalStateException(name);
        }
      } catch (Exception e) {
        log("%s could not run: %s", name, e);
        rows.add(new Row(name, null, 0, 0, Double.NaN, -1, "", 0, 0, "did not run: " + e.getMessage(), true));
      }
      String cpu = CpuShare.now().since(cpuStart);
      log("%s took %.0f s; %s", name, (System.nanoTime() - started) / 1e9, cpu);
      Row last = rows.get(rows.size() - 1);
      if (!cpu.isEmpty() && last.name().equals(name)) {
        rows.set(rows.size() - 1, new Row(last.name(), last.result(), last.sent(), last.attempts(), last.p99(),
            last.maxRssKb(), last.failures(), last.retries(), last.deadLettered(),
            last.notes() + "; CPU: " + cpu, last.extraFailure()));
      }
    }
    long passed = rows.stream().filter(Row::ok).count();
    String cpu = CpuShare.now().since(runStart);
    String report = report() + (cpu.isEmpty() ? "" : "CPU over the whole run: " + cpu + "\n")
        + "chaos: " + passed + " passed, " + (rows.size() - passed) + " failed\n";
    System.out.print(report);
    Files.writeString(runDir.resolve("report.txt"), report);
    return rows.stream().allMatch(Row::ok) ? 0 : 1;
  }

  // ---------------------------------------------------------------- scenarios

  private void kill9(String name, Path dir, boolean pg) throws Exception {
    try (Scenario s = new Scenario(name, dir)) {
      ServerProc server = pg ? s.server("a", s.pgEnv(pgPort)) : s.server("a", Map.of());
      server.start(Duration.ofSeconds(60));
      s.load(rate, new Load.Mix(0.1, 0.3, 0)).start();
      double min = quick ? 1.0 : 3.0;
      double max = quick ? 2.5 : 10.0;
      for (int k = 1; k <= kills; k++) {
        Thread.sleep((long) (1000 * ThreadLocalRandom.current().nextDouble(min, max)));
        long acked = s.ledger.acknowledgedCount();
        server.kill9();
        long t = System.nanoTime();
        server.start(Duration.ofSeconds(60));
        s.note("kill %d at %d acked, back in %.1f s", k, acked, (System.nanoTime() - t) / 1e9);
      }
      Thread.sleep(quick ? 2000 : 5000);
      s.finish(server);
    }
  }

  private void twoInstances(String name, Path dir) throws Exception {
    try (Scenario s = new Scenario(name, dir)) {
      Map<String, String> env = new LinkedHashMap<>(s.pgEnv(pgPort));
      env.put("WEBHOOKD_REDIS_URL", "redis://" + redisHost + ":" + redisPort);
      ServerProc a = s.server("a", env);
      ServerProc b = s.server("b", env);
      a.start(Duration.ofSeconds(60));
      b.start(Duration.ofSeconds(60));
      s.load(rate, new Load.Mix(0.1, 0.3, 0)).start();
      long length = quick ? 12_000 : 40_000;
      long killAt = (long) (length * ThreadLocalRandom.current().nextDouble(0.3, 0.6));
      Thread.sleep(killAt);
      long acked = s.ledger.acknowledgedCount();
      a.kill9();
      s.note("a killed at %.1f s (%d acked); b carries on alone and takes over a's leases (10 s)", killAt / 1e3, acked);
      Thread.sleep(length - killAt);
      s.finish(b);
    }
  }

  private void cut(String name, Path dir, boolean redis) throws Exception {
    try (Scenario s = new Scenario(name, dir);
        TcpProxy proxy = redis ? TcpProxy.to(redisHost, redisPort) : TcpProxy.to(pgHost, pgPort)) {
      Map<String, String> env = new LinkedHashMap<>(s.pgEnv(redis ? pgPort : proxy.port()));
      env.put("WEBHOOKD_REDIS_URL", "redis://" + redisHost + ":" + (redis ? proxy.port() : redisPort));
      ServerProc server = s.server("a", env);
      server.start(Duration.ofSeconds(60));
      s.load(rate, new Load.Mix(0.1, 0.3, 0)).start();
      long cutMillis = quick ? 4000 : 15_000;
      long between = quick ? 3000 : 10_000;
      Thread.sleep(between);
      for (TcpProxy.Mode mode : List.of(TcpProxy.Mode.REFUSE, TcpProxy.Mode.BLACKHOLE)) {
        long acked = s.ledger.acknowledgedCount();
        proxy.cut(mode);
        Thread.sleep(cutMillis);
        long during = s.ledger.acknowledgedCount() - acked;
        proxy.restore();
        s.note("%s cut (%s) for %.0f s: %d acknowledged meanwhile", redis ? "Redis" : "PostgreSQL",
            mode.name().toLowerCase(Locale.ROOT), cutMillis / 1e3, during);
        Thread.sleep(between);
      }
      s.finish(server);
    }
  }

  private void dlq(String name, Path dir) throws Exception {
    try (Scenario s = new Scenario(name, dir)) {
      ServerProc server = s.server("a", Map.of());
      server.start(Duration.ofSeconds(60));
      Load load = s.load(rate, new Load.Mix(0.1, 0.3, poisonRate));
      load.start();
      Thread.sleep(quick ? 10_000 : 30_000);
      load.stop(Duration.ofSeconds(60));
      long left = Ledger.settle(s.db, Duration.ofSeconds(120));
      Ledger.Result before = s.ledger.check(s.db);
      s.note("before replay: %d poison events acknowledged, %d dead, lost %d, duplicated %d, %d not settled",
          s.ledger.poisonAcknowledged(), before.dead, before.lost.size(), before.duplicated.size(), left);
      ServerProc.CliResult replay = server.cli("dlq", "replay", "--all");
      Files.writeString(dir.resolve("dlq-replay.out"), replay.output());
      s.note("webhookd dlq replay --all: exit %d, %s", replay.exitCode(), lastLine(replay.output()));
      if (replay.exitCode() != 0) {
        s.extraFailure = true;
      }
      Thread.sleep(1000);
      s.finish(server);
      int replayed = Ledger.replayedOnce(s.db, s.ledger);
      s.note("after replay: %d of %d poison events have exactly one 'replayed' audit row, and are dead again"
          + " (an event without a message id can never be processed)", replayed, s.ledger.poisonAcknowledged());
      if (replayed != s.ledger.poisonAcknowledged()) {
        s.extraFailure = true;
      }
      s.mergeCheck(before);
    }
  }

  /**
   * Injected transient failures ({@code process.fault-rate}) under load on PostgreSQL, with retries
   * fast enough to run out within the scenario: events are retried and some end in the DLQ. The
   * server then restarts without faults, {@code webhookd dlq replay --all} puts the dead letters
   * back, and every acknowledged event must end processed once with its effect once.
   */
  private void faults(String name, Path dir) throws Exception {
    try (Scenario s = new Scenario(name, dir)) {
      Map<String, String> env = new LinkedHashMap<>(s.pgEnv(pgPort));
      env.put("WEBHOOKD_PROCESS_FAULT_RATE", Double.toString(faultRate));
      env.put("WEBHOOKD_PROCESS_RETRY_BASE", "50ms");
      env.put("WEBHOOKD_PROCESS_RETRY_CAP", "400ms");
      env.put("WEBHOOKD_PROCESS_MAX_RETRIES", Integer.toString(FAULT_MAX_RETRIES));
      ServerProc server = s.server("a", env);
      server.start(Duration.ofSeconds(60));
      Load load = s.load(rate, new Load.Mix(0.1, 0.3, 0));
      load.start();
      Thread.sleep(quick ? 10_000 : 30_000); // how long the load runs
      load.stop(Duration.ofSeconds(60));
      long left = Ledger.settle(s.db, Duration.ofSeconds(180));
      double retriesMetric = server.metricSum("webhook_retries_total");
      double deadMetric = server.metricSum("webhook_processed_total", "status=\"dead\"");
      long retries = Ledger.count(s.db, "SELECT COUNT(*) FROM event_audit WHERE state = 'retry_scheduled'");
      long retried = Ledger.count(s.db,
          "SELECT COUNT(DISTINCT event_id) FROM event_audit WHERE state = 'retry_scheduled'");
      long recovered = Ledger.count(s.db, "SELECT COUNT(*) FROM inbox_events WHERE status = 'processed'"
          + " AND event_id IN (SELECT event_id FROM event_audit WHERE state = 'retry_scheduled')");
      long dead = Ledger.count(s.db, "SELECT COUNT(*) FROM inbox_events WHERE status = 'dead'");
      long openDeadLetters = Ledger.count(s.db, "SELECT COUNT(*) FROM dead_letters WHERE resolved_at IS NULL");
      s.note("fault rate %s, %d retries at most: %d events retried (%d retries; /metrics says %.0f), %d of them"
              + " processed on a later attempt, %d dead-lettered (%d open dead letters; /metrics says %.0f),"
              + " %d not settled", faultRate, FAULT_MAX_RETRIES, retried, retries, retriesMetric, recovered, dead,
          openDeadLetters, deadMetric, left);
      if (left != 0 || retries == 0 || openDeadLetters == 0 || dead != openDeadLetters || retriesMetric != retries
          || deadMetric != dead) {
        s.note("expected everything settled, retries and dead letters, one open dead letter per dead event and"
            + " the metrics equal to the audit trail's counts");
        s.extraFailure = true;
      }

      int stopped = server.stop();
      server.setEnv("WEBHOOKD_PROCESS_FAULT_RATE", "0");
      server.start(Duration.ofSeconds(60));
      ServerProc.CliResult replay = server.cli("dlq", "replay", "--all");
      Files.writeString(dir.resolve("dlq-replay.out"), replay.output());
      s.note("restarted without faults (exit %d on SIGTERM); webhookd dlq replay --all: exit %d, %s", stopped,
          replay.exitCode(), lastLine(replay.output()));
      if (stopped != 0 || replay.exitCode() != 0) {
        s.extraFailure = true;
      }
      s.finish(server);
      long replayed = Ledger.count(s.db, "SELECT COUNT(*) FROM event_audit WHERE state = 'replayed'");
      long replayedEvents = Ledger.count(s.db, "SELECT COUNT(DISTINCT event_id) FROM event_audit WHERE state = 'replayed'");
      long stillOpen = Ledger.count(s.db, "SELECT COUNT(*) FROM dead_letters WHERE resolved_at IS NULL");
      long replayedProcessed = Ledger.count(s.db, "SELECT COUNT(*) FROM inbox_events WHERE status = 'processed'"
          + " AND event_id IN (SELECT event_id FROM event_audit WHERE state = 'replayed')");
      s.note("after replay: %d replayed audit rows for %d events, %d of them processed, %d dead letters still open",
          replayed, replayedEvents, replayedProcessed, stillOpen);
      if (replayed != dead || replayedEvents != dead || replayedProcessed != dead || stillOpen != 0) {
        s.extraFailure = true;
      }
      s.updateRow();
    }
  }

  /** Retries before the DLQ in the faults scenario: with fault rate f, about f^3 of events end dead. */
  private static final int FAULT_MAX_RETRIES = 2;

  /**
   * A steady load on PostgreSQL (the production store: the server's memory is then the service's
   * own, not an embedded database's page cache filling with a growing file) for {@code --soak},
   * sampling RSS and heap; judged by {@link SoakTrend} and by the absence of errors. The dedup
   * cache is sized to fill within the first half of the warm-up, so a bounded cache filling up is
   * not taken for a trend.
   */
  private void soak(String name, Path dir) throws Exception {
    try (Scenario s = new Scenario(name, dir)) {
      double seconds = soak.toMillis() / 1000.0;
      long cacheSize = Math.max(1000, (long) (soakRate * seconds / 3 / 2));
      Map<String, String> env = new LinkedHashMap<>(s.pgEnv(pgPort));
      env.put("WEBHOOKD_DEDUP_CACHE_SIZE", Long.toString(cacheSize));
      ServerProc server = s.server("a", env);
      server.start(Duration.ofSeconds(60));
      Load load = s.load(soakRate, new Load.Mix(0.1, 0.3, 0));
      load.start();
      long step = quick ? 2000 : 5000;
      List<double[]> samples = new ArrayList<>(); // seconds, rss MiB, heap MiB, old gen MiB
      long start = System.nanoTime();
      long end = start + soak.toNanos();
      StringBuilder csv = new StringBuilder("seconds,rss_mib,heap_mib,old_gen_mib,acknowledged\n");
      int missed = 0;
      for (long next = start + step * 1_000_000L; next <= end; next += step * 1_000_000L) {
        long wait = next - System.nanoTime();
        if (wait > 0) {
          Thread.sleep(wait / 1_000_000); // the sampling period, not a wait for a condition
        }
        double t = (System.nanoTime() - start) / 1e9;
        long rss = server.rssKb();
        double[] heap = server.heapBytes();
        if (rss > 0 && heap != null) {
          double[] sample = {t, rss / 1024.0, heap[0] / 1048576.0, heap[1] / 1048576.0};
          samples.add(sample);
          csv.append(String.format(Locale.ROOT, "%.1f,%.1f,%.1f,%.1f,%d%n", t, sample[1], sample[2], sample[3],
              s.ledger.acknowledgedCount()));
        } else {
          missed++;
        }
      }
      Files.writeString(dir.resolve("soak-samples.csv"), csv);
      SoakTrend rssTrend = SoakTrend.of("RSS", samples, 1, seconds, RSS_RELATIVE, RSS_ABSOLUTE_MIB);
      SoakTrend heapTrend = SoakTrend.of("heap in use", samples, 2, seconds, HEAP_RELATIVE, HEAP_ABSOLUTE_MIB);
      SoakTrend oldTrend = SoakTrend.of("old gen", samples, 3, seconds, HEAP_RELATIVE, HEAP_ABSOLUTE_MIB);
      List<double[]> second = samples.subList(samples.size() / 2, samples.size());
      s.note("PostgreSQL, dedup.cache-size %d; %d samples every %d s over %s at %.0f/s (%d missed); RSS %.0f -> %.0f"
              + " MiB (max %.0f), heap in use %.0f-%.0f MiB", cacheSize, samples.size(), step / 1000, soak, soakRate,
          missed, samples.isEmpty() ? Double.NaN : samples.get(0)[1],
          samples.isEmpty() ? Double.NaN : samples.get(samples.size() - 1)[1],
          samples.stream().mapToDouble(x -> x[1]).max().orElse(Double.NaN),
          samples.stream().mapToDouble(x -> x[2]).min().orElse(Double.NaN),
          samples.stream().mapToDouble(x -> x[2]).max().orElse(Double.NaN));
      s.note("trend, mean of the last third against the middle third: %s; %s; (not judged) %s", rssTrend.describe(),
          heapTrend.describe(), oldTrend.describe());
      s.note("second-half linear fit: RSS %+.2f MiB/min, heap in use %+.2f MiB/min, old gen %+.2f MiB/min",
          slope(second, 1) * 60, slope(second, 2) * 60, slope(second, 3) * 60);
      if (!rssTrend.ok() || !heapTrend.ok()) {
        s.extraFailure = true;
      }
      s.finish(server);
      long failed = load.failures.values().stream().mapToLong(x -> x.sum()).sum();
      ServerProc.LogErrors logged = server.errors(3);
      Row row = rows.get(rows.size() - 1);
      s.note("errors: %d failed requests %s, %d gave up, %d ERROR log lines%s, %d retries, %d dead-lettered", failed,
          Load.describe(load.failures), load.gaveUp.sum(), logged.count(),
          logged.first().isEmpty() ? "" : " " + logged.first(), row.retries(), row.deadLettered());
      if (failed > 0 || load.gaveUp.sum() > 0 || logged.count() > 0 || row.retries() > 0 || row.deadLettered() > 0) {
        s.extraFailure = true;
      }
      s.updateRow();
    }
  }

  /** Least-squares slope of column {@code y} against column 0, per second. */
  static double slope(List<double[]> samples, int y) {
    int n = samples.size();
    if (n < 2) {
      return Double.NaN;
    }
    double mx = samples.stream().mapToDouble(x -> x[0]).average().orElse(0);
    double my = samples.stream().mapToDouble(x -> x[y]).average().orElse(0);
    double num = 0;
    double den = 0;
    for (double[] x : samples) {
      num += (x[0] - mx) * (x[y] - my);
      den += (x[0] - mx) * (x[0] - mx);
    }
    return den == 0 ? Double.NaN : num / den;
  }

  // ---------------------------------------------------------------- one scenario's resources

  /** Store, servers, load and RSS sampling of one scenario; closing kills what still runs and drops the database. */
  private final class Scenario implements AutoCloseable {
    final String name;
    final Path dir;
    final String secret = Events.newSecret();
    final Events events = new Events(secret);
    final Ledger ledger = new Ledger();
    final List<ServerProc> servers = new ArrayList<>();
    final List<String> notes = new ArrayList<>();
    final AtomicLong maxRssKb = new AtomicLong(-1);
    final Thread sampler;
    Ledger.Db db;
    String pgDatabase;
    Load load;
    boolean extraFailure;
    Ledger.Result earlier;
    private volatile boolean closed;

    Scenario(String name, Path dir) {
      this.name = name;
      this.dir = dir;
      Path sqlite = dir.resolve("data").resolve("webhookd.db");
      this.db = () -> {
        org.sqlite.SQLiteConfig config = new org.sqlite.SQLiteConfig();
        config.setReadOnly(true);
        config.setBusyTimeout(10_000);
        return DriverManager.getConnection("jdbc:sqlite:" + sqlite, config.toProperties());
      };
      sampler = new Thread(() -> {
        while (!closed) {
          for (ServerProc p : servers) {
            long rss = p.rssKb();
            maxRssKb.accumulateAndGet(rss, Math::max);
          }
          try {
            Thread.sleep(500);
          } catch (InterruptedException e) {
            return;
          }
        }
      }, "chaos-rss");
      sampler.setDaemon(true);
      sampler.start();
    }

    /** Creates the scenario's private PostgreSQL database; the variables to reach it on {@code port}. */
    Map<String, String> pgEnv(int port) throws SQLException {
      if (pgDatabase == null) {
        pgDatabase = "webhookd_chaos_" + name.replaceAll("[^a-z0-9]", "") + "_"
            + UUID.randomUUID().toString().substring(0, 8);
        try (Connection c = pgAdmin(); Statement st = c.createStatement()) {
          st.execute("CREATE DATABASE \"" + pgDatabase + "\"");
        }
        String database = pgDatabase;
        db = () -> pg(database);
      }
      return Map.of("WEBHOOKD_PG_URL", "postgresql://postgres@" + pgHost + ":" + port + "/" + pgDatabase);
    }

    ServerProc server(String label, Map<String, String> extra) {
      Map<String, String> env = new LinkedHashMap<>(extra);
      env.put("WEBHOOKD_DATA_DIR", dir.resolve("data").toString());
      ServerProc p = new ServerProc(label, jar, dir, secret, env);
      servers.add(p);
      return p;
    }

    Load load(double r, Load.Mix mix) {
      load = new Load(events, ledger, () -> {
        List<ServerProc> alive = servers.stream().filter(ServerProc::isAlive).toList();
        return alive.isEmpty() ? servers : alive;
      }, r, threads, mix);
      return load;
    }

    void note(String format, Object... args) {
      String line = String.format(Locale.ROOT, format, args);
      notes.add(line);
      log("  %s", line);
    }

    /** Ends the load, lets processing settle, stops the servers gracefully and checks the ledger. */
    void finish(ServerProc... running) throws Exception {
      if (load != null) {
        load.stop(Duration.ofSeconds(60));
      }
      long left = Ledger.settle(db, Duration.ofSeconds(180));
      if (left != 0) {
        note("processing did not settle within 180 s: %d events still pending or processing", left);
      }
      for (ServerProc p : running) {
        int code = p.stop();
        if (code != 0) {
          note("%s exited with %d on SIGTERM (expected 0)", p.label(), code);
          extraFailure = true;
        }
      }
      Ledger.Result result = ledger.check(db);
      long retries = Ledger.count(db, "SELECT COUNT(*) FROM event_audit WHERE state = 'retry_scheduled'");
      long deadLettered = Ledger.count(db, "SELECT COUNT(*) FROM event_audit WHERE state = 'dead_lettered'");
      rows.add(new Row(name, result, load == null ? 0 : load.sent.sum(), load == null ? 0 : load.attempts.sum(),
          ledger.ackLatencyMillis(0.99), maxRssKb.get(), load == null ? "" : Load.describe(load.failures),
          retries, deadLettered, String.join("; ", notes), extraFailure));
      log("  sent %d, acknowledged %d, stored %d, processed %d, dead %d, lost %d, duplicated %d, p99 %.1f ms,"
              + " resends %d (%d duplicate_ignored), gave up %d; failed attempts %s",
          result.sent, result.acknowledged, result.stored, result.processed, result.dead, result.lost.size(),
          result.duplicated.size(), ledger.ackLatencyMillis(0.99), load == null ? 0 : load.resent.sum(),
          load == null ? 0 : load.resentIgnored.sum(), load == null ? 0 : load.gaveUp.sum(),
          load == null ? "" : Load.describe(load.failures));
      for (String p : result.problems) {
        log("  PROBLEM %s", p);
      }
    }

    /** Adds an earlier check's findings (the DLQ scenario's check before the replay). */
    void mergeCheck(Ledger.Result before) {
      Row last = rows.get(rows.size() - 1);
      last.result().lost.addAll(before.lost);
      last.result().duplicated.addAll(before.duplicated);
      last.result().problems.addAll(before.problems);
      updateRow();
    }

    /** The row {@link #finish} added, with the notes and failures found after it. */
    void updateRow() {
      Row last = rows.get(rows.size() - 1);
      rows.set(rows.size() - 1, new Row(last.name(), last.result(), last.sent(), last.attempts(), last.p99(),
          last.maxRssKb(), last.failures(), last.retries(), last.deadLettered(), String.join("; ", notes),
          extraFailure));
    }

    @Override
    public void close() throws Exception {
      closed = true;
      sampler.interrupt();
      for (ServerProc p : servers) {
        p.kill9();
      }
      if (pgDatabase != null) {
        try (Connection c = pgAdmin(); Statement st = c.createStatement()) {
          st.execute("DROP DATABASE IF EXISTS \"" + pgDatabase + "\" WITH (FORCE)");
        }
      }
    }
  }

  private Connection pgAdmin() throws SQLException {
    return pg("postgres");
  }

  private Connection pg(String database) throws SQLException {
    Properties p = new Properties();
    p.setProperty("user", "postgres");
    p.setProperty("connectTimeout", "5");
    return DriverManager.getConnection("jdbc:postgresql://" + pgHost + ":" + pgPort + "/" + database, p);
  }

  // ---------------------------------------------------------------- report

  private String report() {
    StringBuilder b = new StringBuilder();
    b.append("\nwebhookd chaos report").append(quick ? " (--quick)" : "").append('\n');
    String header = String.format(Locale.ROOT, "%-14s %8s %8s %8s %9s %6s %5s %5s %7s %6s %9s %8s  %s%n", "scenario",
        "sent", "acked", "stored", "processed", "dead", "lost", "dup", "retries", "dlq'd", "p99 ms", "maxRSS", "result");
    b.append(header);
    long sent = 0;
    long acked = 0;
    long stored = 0;
    long processed = 0;
    long dead = 0;
    long lost = 0;
    long dup = 0;
    long retries = 0;
    long deadLettered = 0;
    long maxRss = -1;
    double p99 = 0;
    for (Row r : rows) {
      Ledger.Result x = r.result();
      if (x == null) {
        b.append(String.format(Locale.ROOT, "%-14s %s%n", r.name(), "FAIL  " + r.notes()));
        continue;
      }
      b.append(String.format(Locale.ROOT, "%-14s %8d %8d %8d %9d %6d %5d %5d %7d %6d %9.1f %7dM  %s%n", r.name(),
          x.sent, x.acknowledged, x.stored, x.processed, x.dead, x.lost.size(), x.duplicated.size(), r.retries(),
          r.deadLettered(), r.p99(), r.maxRssKb() / 1024, r.ok() ? "ok" : "FAIL"));
      sent += x.sent;
      acked += x.acknowledged;
      stored += x.stored;
      processed += x.processed;
      dead += x.dead;
      lost += x.lost.size();
      dup += x.duplicated.size();
      retries += r.retries();
      deadLettered += r.deadLettered();
      maxRss = Math.max(maxRss, r.maxRssKb());
      p99 = Math.max(p99, r.p99());
    }
    b.append(String.format(Locale.ROOT, "%-14s %8d %8d %8d %9d %6d %5d %5d %7d %6d %9.1f %7dM  %s%n", "total", sent,
        acked, stored, processed, dead, lost, dup, retries, deadLettered, p99, maxRss / 1024,
        rows.stream().allMatch(Row::ok) ? "ok" : "FAIL"));
    b.append("(p99 ms: of the 2xx answers, per scenario; total shows the worst. processed counts the events that"
        + " must end processed; dead the poison events that must end dead-lettered. retries: processing attempts"
        + " scheduled again after a failure; dlq'd: times an event entered the dead-letter queue; both from the"
        + " audit trail.)\n\n");
    for (Row r : rows) {
      b.append(r.name()).append(": ").append(r.notes()).append('\n');
      b.append("  failed attempts (retried): ").append(r.failures()).append("; stored without a 2xx: ")
          .append(r.result() == null ? "-" : r.result().storedWithout2xx).append('\n');
      if (r.result() != null) {
        for (String p : r.result().problems) {
          b.append("  PROBLEM ").append(p).append('\n');
        }
      }
    }
    return b.toString();
  }

  private static String lastLine(String text) {
    String[] lines = text.strip().split("\n");
    return lines.length == 0 ? "" : lines[lines.length - 1];
  }

  static Duration duration(String text) {
    String t = text.trim().toLowerCase(Locale.ROOT);
    if (t.endsWith("ms")) {
      return Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)));
    } else if (t.endsWith("s")) {
      return Duration.ofSeconds(Long.parseLong(t.substring(0, t.length() - 1)));
    } else if (t.endsWith("m")) {
      return Duration.ofMinutes(Long.parseLong(t.substring(0, t.length() - 1)));
    } else if (t.endsWith("h")) {
      return Duration.ofHours(Long.parseLong(t.substring(0, t.length() - 1)));
    }
    return Duration.ofSeconds(Long.parseLong(t));
  }

  private static void log(String format, Object... args) {
    System.err.printf(Locale.ROOT, "%tT %s%n", System.currentTimeMillis(), String.format(Locale.ROOT, format, args));
  }
}
