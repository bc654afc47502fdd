package io.webhookd.it;

import static io.webhookd.testing.InProcessServer.freePort;
import static io.webhookd.testing.InProcessServer.freePortOtherThan;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;

/**
 * The packaged {@code webhookd.jar} running as a separate OS process: {@code java -jar <jar> serve},
 * configured through {@code WEBHOOKD_*} environment variables only.
 *
 * <p>The jar is {@code -Dwebhookd.jar} (set by failsafe), else {@code target/webhookd.jar}. The
 * child's stdout and stderr (where the service logs) go to files under {@code target/it-logs/}, kept
 * after the test for diagnostics; failures raised here quote the end of them. The child inherits no
 * {@code WEBHOOKD_*} variable from the test JVM and runs in its own working directory, so neither a
 * developer's environment nor {@code conf/webhookd.yaml} leaks into a test.
 */
public final class ServerProcess implements AutoCloseable {

  /** Logged once every listener is up: {@code webhookd [<instance id>] listening on ...}. */
  public static final Pattern READY_LINE = Pattern.compile("webhookd (\\S+ )?listening");

  private static final Duration DEFAULT_START_TIMEOUT = Duration.ofSeconds(30);
  private static final Duration DEFAULT_STOP_TIMEOUT = Duration.ofSeconds(30);
  private static final AtomicInteger SEQUENCE = new AtomicInteger();
  private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("HHmmss");

  private final Process process;
  private final String label;
  private final int port;
  private final int managementPort;
  private final Path dataDir;
  private final Path stdoutFile;
  private final Path stderrFile;

  private ServerProcess(Process process, String label, int port, int managementPort, Path dataDir, Path stdoutFile,
      Path stderrFile) {
    this.process = process;
    this.label = label;
    this.port = port;
    this.managementPort = managementPort;
    this.dataDir = dataDir;
    this.stdoutFile = stdoutFile;
    this.stderrFile = stderrFile;
  }

  /**
   * A server on {@code dataDir} (WEBHOOKD_DATA_DIR), on a free loopback port (and a free management
   * port), with two listener instances.
   */
  public static Builder builder(Path dataDir) {
    return new Builder(dataDir);
  }

  /** The jar under test. */
  public static Path jar() {
    String configured = System.getProperty("webhookd.jar");
    Path jar = configured == null || configured.isBlank() ? Path.of("target", "webhookd.jar") : Path.of(configured);
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException("webhookd jar not found at " + jar.toAbsolutePath()
          + ": build it first (mvn -B -DskipTests package); failsafe passes -Dwebhookd.jar");
    }
    return jar.toAbsolutePath();
  }

  /** How to start one server process. */
  public static final class Builder {
    private final Path dataDir;
    private final Map<String, String> env = new LinkedHashMap<>();
    private final List<String> args = new ArrayList<>();
    private String label = "webhookd";
    private Duration startTimeout = DEFAULT_START_TIMEOUT;

    private Builder(Path dataDir) {
      this.dataDir = dataDir.toAbsolutePath();
      env.put("WEBHOOKD_DATA_DIR", this.dataDir.toString());
      env.put("WEBHOOKD_HTTP_HOST", "127.0.0.1");
      env.put("WEBHOOKD_HTTP_INSTANCES", "2");
      env.put("WEBHOOKD_HTTP_SHUTDOWN_TIMEOUT", "10s");
      env.put("WEBHOOKD_MANAGEMENT_HOST", "127.0.0.1");
    }

    /** Sets a variable for the child; a null value removes it (also one the builder set). */
    public Builder env(String name, String value) {
      if (value == null) {
        env.remove(name);
      } else {
        env.put(name, value);
      }
      return this;
    }

    /** WEBHOOKD_OPENPHONE_SECRETS, comma-joined. */
    public Builder secrets(String... secrets) {
      return env("WEBHOOKD_OPENPHONE_SECRETS", String.join(",", secrets));
    }

    /** Arguments after {@code serve}, e.g. {@code --config file}. */
    public Builder args(String... more) {
      args.addAll(List.of(more));
      return this;
    }

    /** Names the log files. */
    public Builder label(String label) {
      this.label = label;
      return this;
    }

    public Builder startTimeout(Duration timeout) {
      this.startTimeout = timeout;
      return this;
    }

    /**
     * Starts the server and waits until it is ready (see {@link ServerProcess#awaitReady}). When the
     * port picked for it was taken meanwhile by someone else, tries again on another port.
     */
    public ServerProcess start() {
      boolean pickPort = !env.containsKey("WEBHOOKD_HTTP_PORT");
      for (int attempt = 1; ; attempt++) {
        int port = pickPort ? freePort() : parsePort(env.get("WEBHOOKD_HTTP_PORT"));
        ServerProcess server = launch(port);
        try {
          server.awaitReady(startTimeout);
          return server;
        } catch (ServerFailedException e) {
          server.close();
          if (pickPort && attempt < 3 && server.logs().contains("Address already in use")) {
            continue;
          }
          throw e;
        }
      }
    }

    /**
     * Starts the process without waiting for anything: for configurations expected to be refused
     * ({@link ServerProcess#awaitExit}).
     */
    public ServerProcess launch() {
      int port = env.containsKey("WEBHOOKD_HTTP_PORT") ? parsePort(env.get("WEBHOOKD_HTTP_PORT")) : freePort();
      return launch(port);
    }

    private ServerProcess launch(int port) {
      Path logDir = jar().getParent().resolve("it-logs")
          .resolve(label + "-" + LocalDateTime.now().format(STAMP) + "-" + SEQUENCE.incrementAndGet());
      try {
        Files.createDirectories(logDir);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      Path stdout = logDir.resolve("stdout.log");
      Path stderr = logDir.resolve("stderr.log");
      String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
      List<String> command = new ArrayList<>(List.of(java, "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
          "-jar", jar().toString(), "serve"));
      command.addAll(args);
      ProcessBuilder builder = new ProcessBuilder(command)
          .directory(logDir.toFile())
          .redirectOutput(stdout.toFile())
          .redirectError(stderr.toFile());
      builder.environment().keySet().removeIf(name -> name.startsWith("WEBHOOKD_"));
      builder.environment().putAll(env);
      if (!env.containsKey("WEBHOOKD_HTTP_PORT")) {
        builder.environment().put("WEBHOOKD_HTTP_PORT", Integer.toString(port));
      }
      if (!env.containsKey("WEBHOOKD_MANAGEMENT_PORT")) {
        builder.environment().put("WEBHOOKD_MANAGEMENT_PORT", Integer.toString(freePortOtherThan(port)));
      }
      int managementPort = parsePort(builder.environment().get("WEBHOOKD_MANAGEMENT_PORT"));
      try {
        Files.writeString(logDir.resolve("command.txt"), String.join(" ", command) + "\n"
            + "env (secrets hidden): " + visibleEnv(builder.environment()) + "\n");
        return new ServerProcess(builder.start(), label, port, managementPort, dataDir, stdout, stderr);
      } catch (IOException e) {
        throw new UncheckedIOException("could not start " + command, e);
      }
    }

    private static Map<String, String> visibleEnv(Map<String, String> all) {
      Map<String, String> shown = new LinkedHashMap<>();
      all.forEach((name, value) -> {
        if (name.startsWith("WEBHOOKD_")) {
          shown.put(name, name.contains("SECRET") ? "<" + value.split(",").length + " hidden>" : value);
        }
      });
      return shown;
    }

    private static int parsePort(String text) {
      try {
        return Integer.parseInt(text.trim());
      } catch (NumberFormatException e) {
        return -1; // a deliberately bad port: the server is expected to refuse it
      }
    }
  }

  /** The server died or never became ready; the message carries the end of its logs. */
  public static final class ServerFailedException extends RuntimeException {
    ServerFailedException(String message) {
      super(message);
    }
  }

  /**
   * Waits until the server logged {@link #READY_LINE} or its webhook port accepts connections,
   * polling with a deadline; fails at once if the process exits meanwhile.
   */
  public void awaitReady(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      if (READY_LINE.matcher(logs()).find() || (port > 0 && acceptsConnections())) {
        return;
      }
      if (!process.isAlive()) {
        throw new ServerFailedException(label + " exited with code " + process.exitValue()
            + " before it was ready\n" + logTail());
      }
      if (System.nanoTime() > deadline) {
        close();
        throw new ServerFailedException(label + " was not ready within " + timeout + "\n" + logTail());
      }
      waitForExit(Duration.ofMillis(25)); // the poll interval, cut short if the process exits
    }
  }

  private boolean acceptsConnections() {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 200);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** Waits for the process to exit on its own; returns its exit code. */
  public int awaitExit(Duration timeout) {
    if (!waitForExit(timeout)) {
      close();
      throw new ServerFailedException(label + " did not exit within " + timeout + "\n" + logTail());
    }
    return process.exitValue();
  }

  /** SIGTERM (graceful stop), then waits for the exit; returns the exit code. */
  public int stop() {
    return stop(DEFAULT_STOP_TIMEOUT);
  }

  public int stop(Duration timeout) {
    process.destroy();
    if (!waitForExit(timeout)) {
      close();
      throw new ServerFailedException(label + " did not exit within " + timeout + " of SIGTERM\n" + logTail());
    }
    return process.exitValue();
  }

  /** SIGKILL: the process gets no chance to clean up; returns the exit code (137). */
  public int kill() {
    process.toHandle().descendants().forEach(ProcessHandle::destroyForcibly);
    process.destroyForcibly();
    if (!waitForExit(DEFAULT_STOP_TIMEOUT)) {
      throw new ServerFailedException(label + " survived SIGKILL");
    }
    return process.exitValue();
  }

  /** Kills the process if it still runs; for @AfterAll and try-with-resources. */
  @Override
  public void close() {
    if (process.isAlive()) {
      kill();
    }
  }

  private boolean waitForExit(Duration timeout) {
    try {
      return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for " + label, e);
    }
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  public long pid() {
    return process.pid();
  }

  public int port() {
    return port;
  }

  public URI uri(String path) {
    return URI.create("http://127.0.0.1:" + port + path);
  }

  /** The management listener's port (/health, /ready). */
  public int managementPort() {
    return managementPort;
  }

  /** A URI on the management listener, e.g. {@code managementUri("/ready")}. */
  public URI managementUri(String path) {
    return URI.create("http://127.0.0.1:" + managementPort + path);
  }

  public Path dataDir() {
    return dataDir;
  }

  public String stdout() {
    return read(stdoutFile);
  }

  public String stderr() {
    return read(stderrFile);
  }

  /** stdout then stderr. */
  public String logs() {
    return stdout() + stderr();
  }

  /** The last lines of both streams, for failure messages. */
  public String logTail() {
    return "--- " + label + " stdout (" + stdoutFile + "):\n" + tail(stdout(), 40)
        + "--- " + label + " stderr (" + stderrFile + "):\n" + tail(stderr(), 80);
  }

  @Override
  public String toString() {
    return label + "[pid " + process.pid() + ", port " + port + ", logs " + stderrFile.getParent() + "]";
  }

  private static String tail(String text, int lines) {
    List<String> all = text.lines().toList();
    return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size())) + "\n";
  }

  private static String read(Path file) {
    try {
      return Files.exists(file) ? new String(Files.readAllBytes(file), StandardCharsets.UTF_8) : "";
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
