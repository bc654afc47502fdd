package io.webhookd.cli;

/**
 * Chooses how logs look before the first logger exists: JSON lines ({@code logback.xml}) for log
 * pipelines, plain text ({@code logback-text.xml}) when a person watches a terminal;
 * {@code WEBHOOKD_LOG_FORMAT=json|text} decides otherwise.
 */
final class LogFormat {

  private static final String LOGBACK_FILE = "logback.configurationFile";

  private LogFormat() {
  }

  static void choose() {
    if (System.getProperty(LOGBACK_FILE) != null) {
      return;
    }
    String configured = System.getenv("WEBHOOKD_LOG_FORMAT");
    boolean text = configured != null && !configured.isBlank()
        ? configured.trim().equalsIgnoreCase("text")
        : System.console() != null;
    if (text) {
      System.setProperty(LOGBACK_FILE, "logback-text.xml");
    }
  }
}
