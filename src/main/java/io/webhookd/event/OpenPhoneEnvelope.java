package io.webhookd.event;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.time.LocalDate;
import java.time.YearMonth;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Reads the fields of an OpenPhone webhook body whatever its envelope generation: legacy v2/v3 and
 * API v4 keep the resource in {@code data.object} (text in {@code body} or {@code text}, {@code to}
 * a string or an array); 2026-03-30 keeps it in {@code data.resource} with {@code data.context}
 * (sender and recipients as identifiers). Missing or mistyped fields read as null.
 */
public final class OpenPhoneEnvelope {

  private final JsonObject root;
  private final JsonObject resource;
  private final JsonObject context;

  public OpenPhoneEnvelope(JsonObject root) {
    this.root = root;
    JsonObject data = object(root, "data");
    this.resource = data == null ? null : first(object(data, "object"), object(data, "resource"));
    this.context = data == null ? null : object(data, "context");
  }

  public JsonObject root() {
    return root;
  }

  public String type() {
    return string(root, "type");
  }

  public String id() {
    return string(root, "id");
  }

  /** The envelope's creation time, else the resource's. */
  public String createdAt() {
    return first(string(root, "createdAt"), resourceString("createdAt"));
  }

  /** A time field of the resource in epoch milliseconds, or null when absent or unreadable. */
  public Long resourceInstant(String field) {
    return epochMillis(resourceString(field));
  }

  /** ISO-8601 to epoch milliseconds; null when absent or unreadable. */
  public static Long epochMillis(String iso) {
    if (iso == null) {
      return null;
    }
    long fast = utcMillis(iso);
    if (fast != NOT_PLAIN_UTC) {
      return fast;
    }
    try {
      return Instant.parse(iso).toEpochMilli();
    } catch (DateTimeParseException | ArithmeticException e) {
      return null;
    }
  }

  private static final long NOT_PLAIN_UTC = Long.MIN_VALUE;

  /**
   * The form OpenPhone sends, {@code 2024-05-01T10:00:00.123Z} (fraction optional), read by digit
   * offsets: several times per event, and {@link Instant#parse} builds a formatter's parse state
   * each time. Anything else (offsets, leap seconds, odd widths) is left to {@link Instant#parse}.
   */
  private static long utcMillis(String s) {
    int length = s.length();
    if (length < 20 || s.charAt(4) != '-' || s.charAt(7) != '-' || s.charAt(10) != 'T' || s.charAt(13) != ':'
        || s.charAt(16) != ':' || s.charAt(length - 1) != 'Z') {
      return NOT_PLAIN_UTC;
    }
    int year = digits(s, 0, 4);
    int month = digits(s, 5, 7);
    int day = digits(s, 8, 10);
    int hour = digits(s, 11, 13);
    int minute = digits(s, 14, 16);
    int second = digits(s, 17, 19);
    if (year < 0 || month < 1 || month > 12 || day < 1 || day > 31 || hour < 0 || hour > 23 || minute < 0
        || minute > 59 || second < 0 || second > 59) {
      return NOT_PLAIN_UTC;
    }
    int millis = 0;
    if (length > 20) {
      // A fraction: '.', then 1 to 9 digits.
      if (s.charAt(19) != '.' || length - 21 < 1 || length - 21 > 9 || digits(s, 20, length - 1) < 0) {
        return NOT_PLAIN_UTC;
      }
      for (int i = 20; i < 23; i++) {
        millis = millis * 10 + (i < length - 1 ? s.charAt(i) - '0' : 0);
      }
    }
    if (day > YearMonth.of(year, month).lengthOfMonth()) {
      return NOT_PLAIN_UTC;
    }
    long days = LocalDate.of(year, month, day).toEpochDay();
    return ((days * 24 + hour) * 60 + minute) * 60_000L + second * 1000L + millis;
  }

  /** The decimal number in s[from, to), or -1 when a character is not a digit. */
  private static int digits(String s, int from, int to) {
    int value = 0;
    for (int i = from; i < to; i++) {
      char c = s.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      value = value * 10 + (c - '0');
    }
    return value;
  }

  /** A field of the resource, e.g. {@code id}, {@code status}, {@code answeredAt}. */
  public String resourceString(String field) {
    return string(resource, field);
  }

  public JsonObject resourceObject(String field) {
    return object(resource, field);
  }

  public Object resourceValue(String field) {
    return resource == null ? null : resource.getValue(field);
  }

  public String from() {
    return first(string(resource, "from"), string(context, "senderIdentifier"),
        string(resource, "phoneNumber"));
  }

  /** Every recipient: {@code to} as an array or a comma-joined string, or the 2026 identifiers. */
  public List<String> to() {
    List<String> fromResource = list(resource == null ? null : resource.getValue("to"));
    return fromResource.isEmpty()
        ? list(context == null ? null : context.getValue("recipientIdentifiers")) : fromResource;
  }

  public String text() {
    return first(string(resource, "body"), string(resource, "text"));
  }

  public String direction() {
    return string(resource, "direction");
  }

  public boolean inbound() {
    return "incoming".equals(direction());
  }

  public String conversationId() {
    return first(string(resource, "conversationId"), string(context, "conversationId"));
  }

  public String phoneNumberId() {
    return first(string(resource, "phoneNumberId"), string(context, "phoneNumberId"));
  }

  public String userId() {
    return first(string(resource, "userId"), string(context, "userId"));
  }

  /** URLs of the resource's media. */
  public List<String> mediaUrls() {
    List<String> urls = new ArrayList<>();
    if (resource != null && resource.getValue("media") instanceof JsonArray media) {
      for (Object item : media) {
        if (item instanceof JsonObject m && m.getValue("url") instanceof String url) {
          urls.add(url);
        } else if (item instanceof String url) {
          urls.add(url);
        }
      }
    }
    return urls;
  }

  private static List<String> list(Object value) {
    List<String> items = new ArrayList<>();
    if (value instanceof JsonArray array) {
      for (Object item : array) {
        if (item instanceof String s && !s.isBlank()) {
          items.add(s.trim());
        }
      }
    } else if (value instanceof String s) {
      Arrays.stream(s.split(",")).map(String::trim).filter(t -> !t.isEmpty()).forEach(items::add);
    }
    return items;
  }

  private static String string(JsonObject json, String key) {
    // The map itself: getValue would first look for a map or list to wrap, for every field read.
    return json != null && json.getMap().get(key) instanceof String s ? s : null;
  }

  private static JsonObject object(JsonObject json, String key) {
    return json != null && json.getValue(key) instanceof JsonObject o ? o : null;
  }

  @SafeVarargs
  private static <T> T first(T... candidates) {
    for (T candidate : candidates) {
      if (candidate != null) {
        return candidate;
      }
    }
    return null;
  }
}
