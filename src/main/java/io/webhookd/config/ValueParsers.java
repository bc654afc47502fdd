package io.webhookd.config;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parsers for the value kinds settings use. Each throws {@link IllegalArgumentException} with a
 * message that says what was expected; the loader adds the setting's name.
 */
final class ValueParsers {

  private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*(|b|kib|kb|mib|mb|gib|gb)");

  private ValueParsers() {
  }

  /** A power of two within min..max, e.g. a page size. */
  static int powerOfTwo(String text, int min, int max) {
    int value = integer(text, min, max);
    if (Integer.bitCount(value) != 1) {
      throw new IllegalArgumentException(value + " is not a power of two");
    }
    return value;
  }

  static int integer(String text, int min, int max) {
    int value;
    try {
      value = Integer.parseInt(text.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("\"" + text + "\" is not a whole number");
    }
    if (value < min || value > max) {
      throw new IllegalArgumentException(value + " is outside " + min + ".." + max);
    }
    return value;
  }

  /** A decimal number within {@code min..max}; NaN and infinities are refused. */
  static double fraction(String text, double min, double max) {
    double value;
    try {
      value = Double.parseDouble(text.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("\"" + text + "\" is not a number such as 0.25");
    }
    if (!(value >= min && value <= max)) {
      throw new IllegalArgumentException(text.trim() + " is outside " + min + ".." + max);
    }
    return value;
  }

  static Duration duration(String text, Duration min, Duration max) {
    Duration value = Durations.parse(text);
    if (value.compareTo(min) < 0 || value.compareTo(max) > 0) {
      throw new IllegalArgumentException(text + " is outside " + min + ".." + max);
    }
    return value;
  }

  static long bytes(String text, long min, long max) {
    Matcher m = SIZE.matcher(text.trim().toLowerCase(Locale.ROOT));
    if (!m.matches()) {
      throw new IllegalArgumentException(
          "\"" + text + "\" is not a size (bytes, or a number with KiB or MiB, e.g. 1MiB)");
    }
    long n = Long.parseLong(m.group(1));
    long value = switch (m.group(2)) {
      case "kib", "kb" -> n * 1024;
      case "mib", "mb" -> n * 1024 * 1024;
      case "gib", "gb" -> n * 1024 * 1024 * 1024;
      default -> n;
    };
    if (value < min || value > max) {
      throw new IllegalArgumentException(text + " is outside " + min + ".." + max + " bytes");
    }
    return value;
  }

  static boolean bool(String text) {
    return switch (text.trim().toLowerCase(Locale.ROOT)) {
      case "true", "yes", "on" -> true;
      case "false", "no", "off" -> false;
      default -> throw new IllegalArgumentException("\"" + text + "\" is not true or false");
    };
  }

  static <E extends Enum<E>> E oneOf(String text, Class<E> type) {
    try {
      return Enum.valueOf(type, text.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "\"" + text + "\" is not one of " + Arrays.toString(type.getEnumConstants()));
    }
  }

  /** Comma-separated, blanks dropped. */
  static List<String> list(String text) {
    return Arrays.stream(text.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
  }

  /**
   * A URL starting with one of {@code schemes} (followed by {@code ://}), or empty for "not set".
   * The message shows the expected form only: such a URL may carry a password.
   */
  static String urlWithScheme(String text, String expectedForm, String... schemes) {
    String url = text.trim();
    if (url.isEmpty()) {
      return url;
    }
    for (String scheme : schemes) {
      if (url.startsWith(scheme + "://")) {
        return url;
      }
    }
    throw new IllegalArgumentException("must look like " + expectedForm);
  }

  static String nonBlank(String text) {
    if (text.isBlank()) {
      throw new IllegalArgumentException("must not be empty");
    }
    return text.trim();
  }
}
