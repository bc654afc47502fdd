package io.webhookd.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One operator command run from the packaged jar as its own OS process ({@code java -jar
 * webhookd.jar <args>}), with stdin given and stdout and stderr captured separately. Like
 * {@link ServerProcess}, the child inherits no {@code WEBHOOKD_*} variable and runs in its own
 * working directory.
 */
final class CliProcess {

  private static final Duration TIMEOUT = Duration.ofSeconds(60);

  /** One run's outcome. */
  record Result(int exitCode, String out, String err, List<String> args) {

    List<String> lines() {
      return out.lines().toList();
    }

    @Override
    public String toString() {
      return "webhookd " + String.join(" ", args) + " -> exit " + exitCode + "\n--- stdout:\n" + out
          + "--- stderr:\n" + err;
    }
  }

  private final Map<String, String> env = new LinkedHashMap<>();
  private final Path workDir;

  /** @param workDir the working directory (and where the outputs are kept) */
  CliProcess(Path workDir) {
    this.workDir = workDir;
  }

  CliProcess env(String name, String value) {
    env.put(name, value);
    return this;
  }

  Result run(String... args) {
    return run(new byte[0], args);
  }

  Result run(byte[] stdin, String... args) {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> command = new ArrayList<>(List.of(java, "-Xmx128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
        "-jar", ServerProcess.jar().toString()));
    command.addAll(List.of(args));
    try {
      Files.createDirectories(workDir);
      Path out = Files.createTempFile(workDir, "cli-", ".out");
      Path err = Files.createTempFile(workDir, "cli-", ".err");
      Path in = Files.write(Files.createTempFile(workDir, "cli-", ".in"), stdin);
      ProcessBuilder builder = new ProcessBuilder(command)
          .directory(workDir.toFile())
          .redirectInput(in.toFile())
          .redirectOutput(out.toFile())
          .redirectError(err.toFile());
      builder.environment().keySet().removeIf(name -> name.startsWith("WEBHOOKD_"));
      builder.environment().putAll(env);
      Process process = builder.start();
      if (!process.waitFor(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
        process.destroyForcibly();
        throw new AssertionError("webhookd " + String.join(" ", args) + " did not finish within " + TIMEOUT
            + "\n--- stderr:\n" + Files.readString(err));
      }
      return new Result(process.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
          Files.readString(err, StandardCharsets.UTF_8), List.of(args));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
