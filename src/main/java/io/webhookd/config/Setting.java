package io.webhookd.config;

import java.util.Locale;
import java.util.function.Function;

/**
 * One declared setting: its key in the YAML file, the environment variable that overrides it, its
 * default, and how its text becomes a value.
 *
 * @param <T> the parsed type
 * @param secret whether the value is (or may hold) a secret: its parser's messages never echo the
 *               value, and it is never printed
 */
public record Setting<T>(String key, String defaultText, Function<String, T> parser, boolean secret) {

  /** {@code http.port} is overridden by {@code WEBHOOKD_HTTP_PORT}. */
  public String envName() {
    return "WEBHOOKD_" + key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
  }

  /** How error messages name this setting: both spellings an operator may have used. */
  public String displayName() {
    return key + " (" + envName() + ")";
  }

  static <T> Setting<T> of(String key, String defaultText, Function<String, T> parser) {
    return new Setting<>(key, defaultText, parser, false);
  }

  static <T> Setting<T> secret(String key, String defaultText, Function<String, T> parser) {
    return new Setting<>(key, defaultText, parser, true);
  }
}
