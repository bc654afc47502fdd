package io.webhookd.cli;

import io.webhookd.config.InvalidSettingException;
import io.webhookd.config.Settings;
import java.io.PrintWriter;
import java.lang.reflect.RecordComponent;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ExitCode;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code webhookd check-config}: loads the settings as serve would, and prints them with secrets masked. */
@Command(
    name = "check-config",
    mixinStandardHelpOptions = true,
    description = {"Load the settings exactly as serve does (the file, then WEBHOOKD_* variables) and print a"
        + " summary; secrets are never printed, only whether they are set.",
        "Exit 0 when the settings are valid; 2 with the invalid setting named otherwise."},
    footer = {"", "Example:", "  WEBHOOKD_HTTP_PORT=9000 webhookd check-config --config conf/webhookd.yaml"})
final class CheckConfigCommand implements Callable<Integer> {

  @Mixin
  ConfigOption config;

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    Settings settings;
    try {
      settings = config.load();
    } catch (InvalidSettingException e) {
      err.println("webhookd: " + e.getMessage());
      err.flush();
      return ExitCode.USAGE;
    }
    Path source = config.source();
    Output.field(out, "config file", source == null ? "(none: defaults and WEBHOOKD_* variables)" : source);
    Output.field(out, "database", StoreCommand.describeStore(settings));
    // Every part of the settings, in declaration order; each part's toString masks its secrets
    // (signing secrets, API keys, URLs that may carry passwords or tokens).
    for (RecordComponent part : Settings.class.getRecordComponents()) {
      Object value;
      try {
        value = part.getAccessor().invoke(settings);
      } catch (ReflectiveOperationException e) {
        throw new IllegalStateException("cannot read setting " + part.getName(), e);
      }
      Output.field(out, part.getName(), value);
    }
    out.flush();
    if (settings.openphone().secrets().isEmpty()) {
      err.println("warning: no OpenPhone signing secret is configured (WEBHOOKD_OPENPHONE_SECRETS): serve"
          + " would refuse every webhook with 401");
      err.flush();
    }
    return ExitCode.OK;
  }
}
