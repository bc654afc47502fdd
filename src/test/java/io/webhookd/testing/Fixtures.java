package io.webhookd.testing;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;

/** The OpenPhone fixture bodies under {@code src/test/resources/fixtures/openphone}, as raw bytes. */
public final class Fixtures {

  public static final String API_V4_MESSAGE_RECEIVED = "api-v4-message.received.json";
  public static final String LEGACY_V2_MESSAGE_DELIVERED = "legacy-v2-message.delivered.json";
  public static final String LEGACY_V2_MESSAGE_RECEIVED = "legacy-v2-message.received.json";
  public static final String LEGACY_V3_CALL_COMPLETED = "legacy-v3-call.completed.json";
  public static final String LEGACY_V3_CALL_RECORDING_COMPLETED = "legacy-v3-call.recording.completed.json";
  public static final String LEGACY_V3_CALL_RINGING = "legacy-v3-call.ringing.json";
  public static final String LEGACY_V3_CONTACT_UPDATED = "legacy-v3-contact.updated.json";
  public static final String V2026_MESSAGE_RECEIVED = "v2026-message.received.json";

  /** Every fixture file name. */
  public static final List<String> ALL = List.of(
      API_V4_MESSAGE_RECEIVED, LEGACY_V2_MESSAGE_DELIVERED, LEGACY_V2_MESSAGE_RECEIVED,
      LEGACY_V3_CALL_COMPLETED, LEGACY_V3_CALL_RECORDING_COMPLETED, LEGACY_V3_CALL_RINGING,
      LEGACY_V3_CONTACT_UPDATED, V2026_MESSAGE_RECEIVED);

  private Fixtures() {
  }

  /** The fixture's bytes exactly as stored. */
  public static byte[] bytes(String name) {
    String resource = "/fixtures/openphone/" + name;
    try (InputStream in = Fixtures.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalArgumentException("no fixture " + resource + " on the test classpath");
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The fixture parsed, a fresh object each time, for a test to vary. */
  public static JsonObject json(String name) {
    return new JsonObject(Buffer.buffer(bytes(name)));
  }
}
