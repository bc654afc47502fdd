package io.webhookd.chaos;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One webhookd instance: the packaged jar's {@code serve} as a child process, on fixed loopback
 * ports kept across restarts, configured through {@code WEBHOOKD_*} variables only (none inherited).
 * Each start logs to its own file under the scenario's directory.
 */
final class ServerProc {

  private static final HttpClient PROBE = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();

  private final String label;
  private final Path jar;
  private final Path logDir;
  private final Map<String, String> env = new LinkedHashMap<>();
  private final int port;
  private final int managementPort;
  private int starts;
  private Process process;

  ServerProc(String label, Path jar, Path logDir, String secret, Map<String, String> extra) {
    this.label = label;
    this.jar = jar;
    this.logDir = logDir;
    this.port = freePort();
    this.managementPort = freePort();
    env.put("WEBHOOKD_HTTP_HOST", "127.0.0.1");
    env.put("WEBHOOKD_HTTP_PORT", Integer.toString(port));
    env.put("WEBHOOKD_MANAGEMENT_HOST", "127.0.0.1");
    env.put("WEBHOOKD_MANAGEMENT_PORT", Integer.toString(managementPort));
    env.put("WEBHOOKD_OPENPHONE_SECRETS", secret);
    // Short leases and retries, so a run sees take-overs and retries within its minutes.
    env.put("WEBHOOKD_PROCESS_LEASE", "10s");
    env.put("WEBHOOKD_PROCESS_RETRY_BASE", "1s");
    env.put("WEBHOOKD_PROCESS_RETRY_CAP", "5s");
    env.put("WEBHOOKD_PROCESS_INSTANCE_ID", label);
    env.putAll(extra);
  }

  static int freePort() {
    try (ServerSocket socket = new ServerSocket()) {
      socket.setReuseAddress(true);
      socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The variables every process of this instance gets (also the CLI's). */
  Map<String, String> env() {
    return env;
  }

  /** Sets a variable for the next start (and the CLI); the running process keeps what it had. */
  void setEnv(String name, String value) {
    env.put(name, value);
  }

  URI webhookUri() {
    return URI.create("http://127.0.0.1:" + port + "/webhooks/openphone");
  }

  URI managementUri(String path) {
    return URI.create("http://127.0.0.1:" + managementPort + path);
  }

  String label() {
    return label;
  }

  long pid() {
    return process == null ? -1 : process.pid();
  }

  boolean isAlive() {
    return process != null && process.isAlive();
  }

  /** Starts the process and waits (at most {@code timeout}) until /health answers 200. */
  void start(Duration timeout) throws InterruptedException {
    starts++;
    Path log = logDir.resolve(label + "-" + starts + ".log");
    List<String> command = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m", "-jar", jar.toString(), "serve"));
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile())
        .directory(logDir.toFile());
    builder.environment().keySet().removeIf(name -> name.startsWith("WEBHOOKD_"));
    builder.environment().putAll(env);
    try {
      Files.createDirectories(logDir);
      process = builder.start();
    } catch (IOException e) {
      throw new UncheckedIOException("could not start " + command, e);
    }
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException(label + " exited with " + process.exitValue() + " while starting; see " + log);
      }
      try {
        HttpResponse<Void> r = PROBE.send(HttpRequest.newBuilder(managementUri("/health"))
            .timeout(Duration.ofSeconds(1)).build(), HttpResponse.BodyHandlers.discarding());
        if (r.statusCode() == 200) {
          return;
        }
      } catch (IOException e) {
        // not up yet
      }
      Thread.sleep(100);
    }
    process.destroyForcibly();
    throw new IllegalStateException(label + " was not healthy within " + timeout + "; see " + log);
  }

  /** SIGKILL, and waits for the exit. */
  void kill9() throws InterruptedException {
    if (process != null && process.isAlive()) {
      process.destroyForcibly();
      process.waitFor(30, TimeUnit.SECONDS);
    }
  }

  /** SIGTERM, a graceful stop; returns the exit code (-1 when it had to be killed). */
  int stop() throws InterruptedException {
    if (process == null || !process.isAlive()) {
      return process == null ? 0 : process.exitValue();
    }
    process.destroy();
    if (!process.waitFor(60, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      process.waitFor(30, TimeUnit.SECONDS);
      return -1;
    }
    return process.exitValue();
  }

  /** VmRSS of the process in KiB, or -1. */
  long rssKb() {
    if (!isAlive()) {
      return -1;
    }
    try {
      for (String line : Files.readAllLines(Path.of("/proc", Long.toString(process.pid()), "status"))) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
      }
    } catch (IOException | RuntimeException e) {
      // gone meanwhile
    }
    return -1;
  }

  /** Heap in use and old generation in use, bytes, from /metrics; null when unavailable. */
  double[] heapBytes() {
    String metrics = metrics();
    if (metrics == null) {
      return null;
    }
    double heap = 0;
    double old = 0;
    try {
      for (String line : metrics.split("\n")) {
        if (line.startsWith("jvm_memory_used_bytes{") && line.contains("area=\"heap\"")) {
          double v = Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
          heap += v;
          if (line.contains("Old Gen") || line.contains("Tenured")) {
            old += v;
          }
        }
      }
    } catch (RuntimeException e) {
      return null;
    }
    return new double[] {heap, old};
  }

  /**
   * The sum of a Prometheus metric over the series whose labels include every one of {@code labels}
   * (such as {@code status="dead"}), from /metrics; NaN when unavailable.
   */
  double metricSum(String name, String... labels) {
    String metrics = metrics();
    if (metrics == null) {
      return Double.NaN;
    }
    double sum = 0;
    try {
      for (String line : metrics.split("\n")) {
        if ((line.startsWith(name + "{") || line.startsWith(name + " "))
            && Arrays.stream(labels).allMatch(line::contains)) {
          sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
        }
      }
    } catch (RuntimeException e) {
      return Double.NaN;
    }
    return sum;
  }

  /** The management port's /metrics text, or null. */
  private String metrics() {
    try {
      HttpResponse<String> r = PROBE.send(HttpRequest.newBuilder(managementUri("/metrics"))
          .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
      return r.statusCode() == 200 ? r.body() : null;
    } catch (IOException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }

  /** Lines logged at ERROR by every start of this instance so far (its log files); the first few kept. */
  LogErrors errors(int keep) throws IOException {
    List<String> found = new ArrayList<>();
    int count = 0;
    for (int n = 1; n <= starts; n++) {
      Path log = logDir.resolve(label + "-" + n + ".log");
      if (!Files.exists(log)) {
        continue;
      }
      for (String line : Files.readAllLines(log)) {
        if (line.contains(" ERROR ")) {
          count++;
          if (found.size() < keep) {
            found.add(line.length() > 300 ? line.substring(0, 300) : line);
          }
        }
      }
    }
    return new LogErrors(count, found);
  }

  record LogErrors(int count, List<String> first) {
  }

  /** Runs the same jar's operator CLI with this instance's settings; returns exit code and output. */
  CliResult cli(String... args) throws InterruptedException {
    List<String> command = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar", jar.toString()));
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).directory(logDir.toFile());
    builder.environment().keySet().removeIf(name -> name.startsWith("WEBHOOKD_"));
    builder.environment().putAll(env);
    try {
      Process p = builder.start();
      byte[] out = p.getInputStream().readAllBytes();
      if (!p.waitFor(120, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return new CliResult(-1, new String(out));
      }
      return new CliResult(p.exitValue(), new String(out));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  record CliResult(int exitCode, String output) {
  }
}
