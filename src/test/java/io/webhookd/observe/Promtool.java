package io.webhookd.observe;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * Prometheus' {@code promtool} (Debian package {@code prometheus}; {@code .ci/run} installs it).
 * Missing, it fails the test under {@code CI=true} and skips it loudly elsewhere.
 */
final class Promtool {

  /** What one run printed and returned. */
  record Result(int exitCode, String output) {
  }

  private static final String MISSING = "*** promtool is not on the PATH: install the Debian package 'prometheus'"
      + " (apt-get install prometheus) or set WEBHOOKD_TEST_PROMTOOL; .ci/run installs it. ***";

  private Promtool() {
  }

  /** The promtool executable: {@code WEBHOOKD_TEST_PROMTOOL}, else the first on the PATH. */
  static Optional<Path> find() {
    String override = System.getenv("WEBHOOKD_TEST_PROMTOOL");
    if (override != null && !override.isBlank() && Files.isExecutable(Path.of(override))) {
      return Optional.of(Path.of(override));
    }
    String path = System.getenv().getOrDefault("PATH", "");
    for (String dir : path.split(File.pathSeparator)) {
      Path candidate = Path.of(dir.isEmpty() ? "." : dir, "promtool");
      if (Files.isExecutable(candidate)) {
        return Optional.of(candidate);
      }
    }
    return Optional.empty();
  }

  /** promtool, or a failed test under CI=true and an aborted (skipped) one elsewhere. */
  static Path require() {
    Optional<Path> found = find();
    if (found.isEmpty()) {
      failUnderCi();
      System.err.println(MISSING + " Skipping this test.");
      Assumptions.abort(MISSING);
    }
    return found.orElseThrow();
  }

  /**
   * For a test that checks more than promtool's part: whether promtool is there; when it is not,
   * fails under CI=true, and elsewhere says loudly that this one check is skipped.
   */
  static boolean availableFor(String check) {
    if (find().isPresent()) {
      return true;
    }
    failUnderCi();
    System.err.println(MISSING + " Skipping: " + check + ".");
    return false;
  }

  private static void failUnderCi() {
    if ("true".equalsIgnoreCase(System.getenv("CI"))) {
      Assertions.fail(MISSING);
    }
  }

  /** Runs {@code promtool args...}, feeding {@code stdin} (may be null). */
  static Result run(String stdin, String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    command.add(require().toString());
    command.addAll(List.of(args));
    Process process = new ProcessBuilder(command)
        .directory(projectDir().toFile())
        .redirectErrorStream(true)
        .start();
    Thread feeder = new Thread(() -> {
      try (var in = process.getOutputStream()) {
        if (stdin != null) {
          in.write(stdin.getBytes(StandardCharsets.UTF_8));
        }
      } catch (IOException ignored) {
        // promtool stopped reading; its exit code tells
      }
    }, "promtool-stdin");
    feeder.start();
    byte[] output = process.getInputStream().readAllBytes();
    if (!process.waitFor(60, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new AssertionError("promtool " + args[0] + " did not finish within 60 s");
    }
    feeder.join();
    return new Result(process.exitValue(), new String(output, StandardCharsets.UTF_8));
  }

  /** The project's root (where {@code conf/} is): Maven runs tests there. */
  static Path projectDir() {
    Path dir = Path.of("").toAbsolutePath();
    for (Path p = dir; p != null; p = p.getParent()) {
      if (Files.isRegularFile(p.resolve("pom.xml")) && Files.isDirectory(p.resolve("conf"))) {
        return p;
      }
    }
    return dir;
  }
}
