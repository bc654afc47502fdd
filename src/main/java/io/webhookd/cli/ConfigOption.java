package io.webhookd.cli;

import io.webhookd.config.Settings;
import io.webhookd.config.SettingsLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** {@code --config PATH}, shared by every command that reads the service's settings. */
final class ConfigOption {

  @Option(names = "--config", paramLabel = "PATH",
      description = "YAML settings file (default: $WEBHOOKD_CONFIG, else conf/webhookd.yaml if present)."
          + " WEBHOOKD_* environment variables override it.")
  Path file;

  Settings load() {
    return SettingsLoader.load(file, System.getenv());
  }

  /** The settings file {@link #load} reads, or null when it reads defaults and the environment only. */
  Path source() {
    if (file != null) {
      return file;
    }
    String configured = System.getenv("WEBHOOKD_CONFIG");
    if (configured != null && !configured.isBlank()) {
      return Path.of(configured);
    }
    return Files.isRegularFile(SettingsLoader.DEFAULT_FILE) ? SettingsLoader.DEFAULT_FILE : null;
  }
}
