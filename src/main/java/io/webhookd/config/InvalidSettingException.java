package io.webhookd.config;

/**
 * A setting that cannot be used. Its message is one line that names the setting and what is wrong,
 * and never contains a secret's value.
 */
public final class InvalidSettingException extends RuntimeException {

  public InvalidSettingException(String setting, String problem) {
    super("invalid setting " + setting + ": " + problem);
  }

  public InvalidSettingException(String message) {
    super(message);
  }
}
