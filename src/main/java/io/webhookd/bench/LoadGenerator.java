package io.webhookd.bench;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.PoolOptions;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Load generator for the webhook port. Two modes:
 * <ul>
 *   <li>{@code max}: closed loop, {@code --connections} requests in flight, each followed at once by
 *   the next: the most acknowledged webhooks per second the server sustains.</li>
 *   <li>{@code rate}: open loop, sends scheduled at fixed intervals of {@code 1/--rate} whatever the
 *   server does; latency runs from each request's scheduled time, so a stalled server cannot hide
 *   its queue (no coordinated omission).</li>
 * </ul>
 * Every request is a distinct, validly signed OpenPhone legacy {@code message.received} event. The
 * run is bounded by {@code --warmup + --duration} (and {@code --max-requests}), then waits at most
 * {@code --timeout} for the answers in flight, and stops by itself. Sends only to loopback.
 *
 * <p>In rate mode {@code --settle} lets the warm-up run on until the answers keep pace with the
 * schedule: a fresh generator JVM competes for the cores with the server while its own code is
 * compiled, so the first seconds of a phase can build a queue that then takes seconds to drain, and
 * a window that began on a fixed clock would measure that start-up instead of the steady rate. The
 * warm-up actually used, and whether the answers did catch up, are in the report.
 */
@Command(
    name = "LoadGenerator",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = "Sends signed OpenPhone webhooks to a local webhookd and reports throughput, latency "
        + "and errors.",
    footer = {"", "Examples:",
        "  java -cp target/webhookd.jar io.webhookd.bench.LoadGenerator --secret $S --mode max --connections 64",
        "  java -cp target/webhookd.jar io.webhookd.bench.LoadGenerator --secret $S --mode rate --rate 5000"})
public final class LoadGenerator implements Callable<Integer> {

  /** Presigned signatures must stay inside the server's 5 minute window until the last send. */
  static final Duration PRESIGN_WINDOW = Duration.ofSeconds(240);
  static final int MAX_PRESIGNED = 5_000_000;
  private static final long SETTLE_STEP = TimeUnit.SECONDS.toNanos(1);

  enum Mode { max, rate }

  @Option(names = "--url", description = "Webhook endpoint; loopback only (default: ${DEFAULT-VALUE}).")
  URI url = URI.create("http://127.0.0.1:8080/webhooks/openphone");

  @Option(names = "--secret", defaultValue = "${env:WEBHOOKD_BENCH_SECRET}",
      description = "The server's OpenPhone signing secret, base64 (default: $WEBHOOKD_BENCH_SECRET).")
  String secret;

  @Option(names = "--mode", description = "max (closed loop) or rate (open loop) (default: ${DEFAULT-VALUE}).")
  Mode mode = Mode.max;

  @Option(names = "--rate", description = "Requests per second in rate mode (default: ${DEFAULT-VALUE}).")
  double rate = 5000;

  @Option(names = "--event-type",
      description = "message.received (the service answers it only once processed, as a critical "
          + "type) or message.delivered (answered once stored) (default: ${DEFAULT-VALUE}).")
  String eventType = "message.received";

  @Option(names = "--duration", converter = DurationConverter.class,
      description = "Measured phase, e.g. 20s (default: 20s).")
  Duration duration = Duration.ofSeconds(20);

  @Option(names = "--warmup", converter = DurationConverter.class,
      description = "Unmeasured load before it, same mode (default: 5s).")
  Duration warmup = Duration.ofSeconds(5);

  @Option(names = "--settle", converter = DurationConverter.class,
      description = "Rate mode: after --warmup, warm up longer (at most this much) until no more than "
          + "50 ms of the schedule is in flight at two one-second marks in a row; needs --warmup of at "
          + "least 2s (default: 0s, off).")
  Duration settle = Duration.ZERO;

  @Option(names = "--connections",
      description = "Connections; in max mode also the requests in flight (default: ${DEFAULT-VALUE}).")
  int connections = 64;

  @Option(names = "--threads", description = "Event loops of the generator (default: ${DEFAULT-VALUE}).")
  int threads = 1;

  @Option(names = "--timeout", converter = DurationConverter.class,
      description = "Per-request timeout, and the longest wait for answers at the end (default: 10s).")
  Duration timeout = Duration.ofSeconds(10);

  @Option(names = "--max-requests", description = "Hard cap on requests sent (default: ${DEFAULT-VALUE}).")
  long maxRequests = 10_000_000;

  @Option(names = "--presign", negatable = true, defaultValue = "true", fallbackValue = "true",
      description = "Sign events before the timed phase (default: true); needs warmup + duration <= 240s.")
  boolean presign;

  @Option(names = "--expected-rate",
      description = "Max mode: events to presign per second of the run; faster runs sign the rest "
          + "when sending (default: ${DEFAULT-VALUE}).")
  int expectedRate = 50_000;

  @Option(names = "--server-pid",
      description = "Linux: also report this process's CPU use and RSS over the measured phase.")
  Long serverPid;

  @Option(names = "--backend-pids", split = ",",
      description = "Linux: also report the CPU use of these processes together (the database and cache "
          + "servers the server uses), apart from other processes.")
  List<Long> backendPids = new ArrayList<>();

  @Option(names = "--json", description = "Print the summary as JSON on stdout (text goes to stderr).")
  boolean json;

  @Option(names = "--quiet", description = "No progress lines.")
  boolean quiet;

  public static void main(String[] args) {
    System.exit(new CommandLine(new LoadGenerator())
        .setCaseInsensitiveEnumValuesAllowed(true)
        .execute(args));
  }

  @Override
  public Integer call() throws Exception {
    String problem = validate();
    if (problem != null) {
      System.err.println("LoadGenerator: " + problem);
      return 2;
    }
    long totalNanos = warmup.toNanos() + settle.toNanos() + duration.toNanos();
    long planned = mode == Mode.rate
        ? Math.min(maxRequests, (long) Math.ceil(rate * totalNanos / 1e9))
        : Math.min(maxRequests, (long) Math.ceil((double) expectedRate * totalNanos / 1e9));
    // About 110 bytes of heap per presigned signature; beyond the cap the rest are signed when sent.
    int presigned = presign ? (int) Math.min(planned, MAX_PRESIGNED) : 0;
    long signStart = System.nanoTime();
    SyntheticEvents events = new SyntheticEvents(secret, SyntheticEvents.Type.of(eventType), presigned);
    progress("prepared %,d signed events of %d bytes in %.1f s", presigned, events.bodyLength(),
        (System.nanoTime() - signStart) / 1e9);

    Vertx vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true).setEventLoopPoolSize(threads)
        .setWorkerPoolSize(1).setInternalBlockingPoolSize(1));
    try {
      return run(vertx, events, planned);
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  private Integer run(Vertx vertx, SyntheticEvents events, long planned) throws Exception {
    // The time line is set once the lanes are primed (in rate mode --settle may move the measured
    // window later while it still lies ahead); the run refers to it through this holder.
    AtomicLongArray timeLine = new AtomicLongArray(3);
    Lane.Run run = new Lane.Run(timeLine, maxRequests, new AtomicLong(), new AtomicLong(),
        new LongAdder(), new LongAdder());
    List<Lane> lanes = new ArrayList<>();
    List<HttpClient> clients = new ArrayList<>();
    for (int i = 0; i < threads; i++) {
      // A context of its own per lane: its connections and callbacks stay on one event loop.
      Context context = vertx.getOrCreateContext();
      int share = connections / threads + (i < connections % threads ? 1 : 0);
      HttpClient client = vertx.createHttpClient(
          new HttpClientOptions()
              .setKeepAlive(true)
              .setTcpNoDelay(true)
              .setKeepAliveTimeout((int) Math.max(60, timeout.toSeconds() * 2)),
          new PoolOptions().setHttp1MaxSize(Math.max(1, share)).setMaxWaitQueueSize(-1));
      clients.add(client);
      lanes.add(new Lane(context, client, url, timeout.toMillis(), events, run));
    }
    for (Lane lane : lanes) {
      lane.prime().toCompletionStage().toCompletableFuture().get(timeout.toMillis() + 1000, TimeUnit.MILLISECONDS);
    }
    long start = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(50);
    long measureStart = start + warmup.toNanos();
    long measureEnd = measureStart + duration.toNanos();
    long latestMeasureStart = measureStart + settle.toNanos();
    // Steady: no more than 50 ms of the schedule in flight.
    long steadyInFlight = Math.max(1, (long) (rate * 0.05));
    long previousInFlight = Long.MAX_VALUE;
    boolean settling = mode == Mode.rate && !settle.isZero();
    boolean settled = !settling;
    timeLine.set(0, start);
    timeLine.set(1, measureStart);
    timeLine.set(2, measureEnd);

    Pacer pacer = null;
    LockSupport.parkNanos(start - System.nanoTime());
    if (mode == Mode.max) {
      for (int i = 0; i < lanes.size(); i++) {
        int share = connections / threads + (i < connections % threads ? 1 : 0);
        lanes.get(i).startUsers(share);
      }
    } else {
      pacer = new Pacer(lanes, new Lane.Schedule(start, 1e9 / rate, planned), run);
      pacer.start();
    }

    ProcessSample generatorBefore = null;
    ProcessSample serverBefore = null;
    ThreadCpu serverThreadsBefore = null;
    ThreadCpu serverThreadsAfter = null;
    ProcessSample machineBefore = null;
    ProcessSample backendsBefore = null;
    ProcessSample backendsAfter = null;
    ProcessSample generatorAfter = null;
    ProcessSample serverAfter = null;
    ProcessSample machineAfter = null;
    long lastAcked = 0;
    long lastFailed = 0;
    long nextTick = start + TimeUnit.SECONDS.toNanos(1);
    while (true) {
      long now = System.nanoTime();
      if (generatorBefore == null && now >= measureStart) {
        generatorBefore = ProcessSample.ofThisJvm();
        serverBefore = ProcessSample.of(serverPid);
        serverThreadsBefore = ThreadCpu.of(serverPid);
        machineBefore = ProcessSample.ofMachine();
        backendsBefore = ProcessSample.ofAll(backendPids);
      }
      if (now >= measureEnd) {
        generatorAfter = ProcessSample.ofThisJvm();
        serverAfter = ProcessSample.of(serverPid);
        serverThreadsAfter = ThreadCpu.of(serverPid);
        machineAfter = ProcessSample.ofMachine();
        backendsAfter = ProcessSample.ofAll(backendPids);
        break;
      }
      if (now >= nextTick) {
        long acked = run.acknowledged().sum();
        long failed = run.failed().sum();
        long inFlight = run.inFlight().get();
        progress("%5.1f s %-7s 2xx/s %,8d  errors/s %,6d  in flight %,6d", (now - start) / 1e9,
            now < measureStart ? "warmup" : "measure", acked - lastAcked, failed - lastFailed, inFlight);
        boolean steady = inFlight <= steadyInFlight && previousInFlight <= steadyInFlight;
        previousInFlight = inFlight;
        // Decided a mark ahead, while the window still lies ahead: no answer counted so far changes side.
        if (settling && generatorBefore == null && measureStart - now <= SETTLE_STEP) {
          settled = steady;
          if (!steady && measureStart + SETTLE_STEP <= latestMeasureStart) {
            measureStart += SETTLE_STEP;
            measureEnd += SETTLE_STEP;
            timeLine.set(2, measureEnd);
            timeLine.set(1, measureStart);
          }
        }
        lastAcked = acked;
        lastFailed = failed;
        nextTick += TimeUnit.SECONDS.toNanos(1);
      }
      long wake = Math.min(nextTick, generatorBefore == null ? measureStart : measureEnd);
      LockSupport.parkNanos(Math.max(1, wake - System.nanoTime()));
    }
    if (pacer != null) {
      pacer.join(timeout.toMillis() + 1000);
    }
    // The window is over: no new sends; wait (bounded) for the answers still in flight.
    long drainDeadline = System.nanoTime() + timeout.toNanos() + TimeUnit.SECONDS.toNanos(1);
    while (run.inFlight().get() > 0 && System.nanoTime() < drainDeadline) {
      Thread.sleep(5);
    }
    long unfinished = Math.max(0, run.inFlight().get());

    List<Lane.Result> results = new ArrayList<>();
    for (Lane lane : lanes) {
      results.add(lane.result().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS));
    }
    for (HttpClient client : clients) {
      client.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
    RunReport report = new RunReport(this, new RunReport.Warmup((measureStart - start) / 1e9, settled),
        events, planned, results, unfinished,
        pacer == null ? null : pacer.lag(), generatorBefore, generatorAfter, serverBefore, serverAfter,
        serverThreadsBefore, serverThreadsAfter,
        ProcessSample.cores(machineBefore, machineAfter), ProcessSample.cores(backendsBefore, backendsAfter));
    if (json) {
      System.out.println(report.toJson().encodePrettily());
      System.err.print(report.toText());
    } else {
      System.out.print(report.toText());
    }
    if (report.acknowledged() == 0) {
      System.err.println("LoadGenerator: no request was acknowledged: is the server up, and is the secret its secret?");
      return 1;
    }
    return 0;
  }

  private String validate() {
    if (secret == null || secret.isBlank()) {
      return "--secret is required (or set WEBHOOKD_BENCH_SECRET)";
    }
    secret = secret.split(",")[0].trim();
    if (!"http".equals(url.getScheme()) || url.getHost() == null || url.getPort() <= 0
        || url.getRawPath() == null || url.getRawPath().isEmpty()) {
      return "--url must be http://HOST:PORT/PATH, got " + url;
    }
    try {
      for (InetAddress address : InetAddress.getAllByName(url.getHost())) {
        if (!address.isLoopbackAddress()) {
          return "--url must point at this machine's loopback (127.0.0.1, ::1, localhost), got " + url.getHost();
        }
      }
    } catch (UnknownHostException e) {
      return "--url host " + url.getHost() + " does not resolve";
    }
    try {
      SyntheticEvents.Type.of(eventType);
    } catch (IllegalArgumentException e) {
      return "--event-type must be message.received or message.delivered";
    }
    if (duration.compareTo(Duration.ofSeconds(1)) < 0 || duration.compareTo(Duration.ofHours(1)) > 0) {
      return "--duration must be between 1s and 1h";
    }
    if (warmup.isNegative() || warmup.compareTo(Duration.ofMinutes(10)) > 0) {
      return "--warmup must be between 0s and 10m";
    }
    if (timeout.compareTo(Duration.ofMillis(100)) < 0 || timeout.compareTo(Duration.ofMinutes(2)) > 0) {
      return "--timeout must be between 100ms and 2m";
    }
    if (settle.isNegative() || settle.compareTo(Duration.ofMinutes(5)) > 0) {
      return "--settle must be between 0s and 5m";
    }
    if (!settle.isZero() && mode != Mode.rate) {
      return "--settle applies to rate mode only";
    }
    // Settling is decided at one-second marks, one mark before the window opens, from two marks in
    // a row: with less warm-up the window opens before the first decision.
    if (!settle.isZero() && warmup.compareTo(Duration.ofSeconds(2)) < 0) {
      return "--settle needs --warmup of at least 2s";
    }
    if (presign && warmup.plus(settle).plus(duration).compareTo(PRESIGN_WINDOW) > 0) {
      return "presigned signatures would leave the server's 5 minute window: keep --warmup + --settle + --duration"
          + " <= " + PRESIGN_WINDOW.toSeconds() + "s, or pass --no-presign";
    }
    if (rate <= 0 || rate > 1_000_000) {
      return "--rate must be in (0, 1000000]";
    }
    if (connections < 1 || connections > 10_000) {
      return "--connections must be between 1 and 10000";
    }
    if (threads < 1 || threads > 64 || threads > connections) {
      return "--threads must be between 1 and 64, and no more than --connections";
    }
    if (maxRequests < 1 || maxRequests > 100_000_000) {
      return "--max-requests must be between 1 and 100000000";
    }
    if (expectedRate < 1 || expectedRate > 1_000_000) {
      return "--expected-rate must be between 1 and 1000000";
    }
    return null;
  }

  private void progress(String format, Object... args) {
    if (!quiet) {
      System.err.println(String.format(Locale.ROOT, "[loadgen] " + format, args));
    }
  }

  /** Parses {@code 20s}, {@code 500ms}, {@code 2m}, {@code 1h}; a bare number is seconds. */
  static final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
    @Override
    public Duration convert(String text) {
      String t = text.trim().toLowerCase(Locale.ROOT);
      try {
        if (t.endsWith("ms")) {
          return Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)));
        } else if (t.endsWith("s")) {
          return Duration.ofMillis(Math.round(Double.parseDouble(t.substring(0, t.length() - 1)) * 1000));
        } else if (t.endsWith("m")) {
          return Duration.ofSeconds(Long.parseLong(t.substring(0, t.length() - 1)) * 60);
        } else if (t.endsWith("h")) {
          return Duration.ofHours(Long.parseLong(t.substring(0, t.length() - 1)));
        }
        return Duration.ofMillis(Math.round(Double.parseDouble(t) * 1000));
      } catch (NumberFormatException e) {
        throw new CommandLine.TypeConversionException("not a duration: " + text + " (e.g. 20s, 500ms, 2m)");
      }
    }
  }

}
