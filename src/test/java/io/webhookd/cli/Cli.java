package io.webhookd.cli;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import picocli.CommandLine;

/**
 * Runs the {@code webhookd} command line in this JVM, exactly as {@code main} parses and executes
 * it ({@link WebhookdCommand#commandLine()}), with stdout and stderr captured separately.
 */
final class Cli {

  private Cli() {
  }

  /** One run's outcome. */
  record Result(int exitCode, String out, String err, List<String> args) {

    JsonObject jsonObject() {
      return new JsonObject(out);
    }

    JsonArray jsonArray() {
      return new JsonArray(out);
    }

    /** stdout's lines, without the trailing empty one. */
    List<String> lines() {
      return out.lines().toList();
    }

    @Override
    public String toString() {
      return "webhookd " + String.join(" ", args) + " -> exit " + exitCode + "\n--- stdout:\n" + out
          + "--- stderr:\n" + err;
    }
  }

  static Result run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine commandLine = WebhookdCommand.commandLine();
    commandLine.setOut(new PrintWriter(out, true));
    commandLine.setErr(new PrintWriter(err, true));
    int code = commandLine.execute(args);
    return new Result(code, out.toString(), err.toString(), List.of(args));
  }

  /** {@code args} after {@code --config file}'s position at the end: {@code webhookd <args> --config <file>}. */
  static Result run(java.nio.file.Path config, String... args) {
    List<String> all = new ArrayList<>(Arrays.asList(args));
    all.add("--config");
    all.add(config.toString());
    return run(all.toArray(String[]::new));
  }
}
