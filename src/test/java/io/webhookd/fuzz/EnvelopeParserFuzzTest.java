package io.webhookd.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.webhookd.event.WebhookEvent;
import io.webhookd.ingest.Envelope;
import io.webhookd.ingest.EnvelopeParser;
import io.webhookd.ingest.InvalidEnvelopeException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Set;

/**
 * Coverage-guided fuzzing of {@link EnvelopeParser#parse} over raw (already authenticated) bodies.
 * Whatever the bytes, the only exception that may escape is {@link InvalidEnvelopeException} with
 * one of the documented codes and a short message; anything else would turn a signed delivery into
 * a 500 that the sender retries for a day. A body it accepts yields an event that can be stored: an
 * event id and a type within their bounds, a partition key, and the raw body unchanged.
 *
 * <p>Seeds: the OpenPhone fixtures and a few hostile bodies under
 * {@code src/test/resources/io/webhookd/fuzz/EnvelopeParserFuzzTestInputs/parse/}.
 */
class EnvelopeParserFuzzTest {

  private static final long RECEIVED_AT = 1_767_225_600_000L;
  private static final Set<String> CODES = Set.of("invalid_json", "invalid_envelope");

  @FuzzTest(maxDuration = "30s")
  @DictionaryEntries({"\"type\":\"message.received\"", "\"id\":\"", "\"createdAt\":\"", "\"data\":{\"object\":{",
      "\"data\":{\"resource\":{", "\"context\":{", "\"to\":[", "\"to\":\"", "\"from\":\"", "\"text\":\"",
      "\"direction\":\"incoming\"", "\"conversationId\":\"", "\"recipientIdentifiers\":[",
      "2026-04-13T12:00:00.000Z", "+999999999-12-31T23:59:59Z", "-999999999-01-01T00:00:00Z", "\\u0000", "1e999"})
  void parse(byte[] body) {
    byte[] original = body.clone();
    Envelope envelope;
    try {
      envelope = EnvelopeParser.parse(body, "openphone", null, RECEIVED_AT);
    } catch (InvalidEnvelopeException e) {
      assertThat(e.code()).isIn(CODES);
      assertThat(e.getMessage()).isNotBlank().hasSizeLessThan(200);
      return;
    }
    WebhookEvent event = envelope.event();
    assertThat(event.type()).isNotEmpty().hasSizeLessThanOrEqualTo(100);
    assertThat(event.eventId()).isNotEmpty().hasSizeLessThanOrEqualTo(255);
    assertThat(event.partitionKey()).isNotEmpty();
    assertThat(event.source()).isEqualTo(WebhookEvent.SOURCE_OPENPHONE);
    assertThat(event.receivedAt()).isEqualTo(RECEIVED_AT);
    assertThat(body).as("the parser must not change the body").isEqualTo(original);
  }

  /** The same, as a Standard Webhooks delivery: the {@code webhook-id} becomes the event id. */
  @FuzzTest(maxDuration = "30s")
  @DictionaryEntries({"\"type\":\"message.received\"", "\"id\":\"", "\"createdAt\":\"", "\"data\":{\"object\":{",
      "\"data\":{\"resource\":{", "\"context\":{", "\"to\":[", "\"to\":\"", "\"from\":\"", "\"text\":\"",
      "\"direction\":\"incoming\"", "\"conversationId\":\"", "\"recipientIdentifiers\":[",
      "2026-04-13T12:00:00.000Z", "+999999999-12-31T23:59:59Z", "-999999999-01-01T00:00:00Z", "\\u0000", "1e999"})
  void parseWithWebhookId(byte[] input) {
    int newline = indexOf(input, (byte) '\n');
    String webhookId = newline < 0 ? "msg_fuzz" : new String(input, 0, newline, StandardCharsets.ISO_8859_1);
    byte[] body = newline < 0 ? input : Arrays.copyOfRange(input, newline + 1, input.length);
    try {
      WebhookEvent event = EnvelopeParser.parse(body, "standard-webhooks", webhookId, RECEIVED_AT).event();
      if (!webhookId.isEmpty()) {
        assertThat(event.eventId()).isEqualTo(webhookId);
      }
      assertThat(event.eventId()).isNotEmpty().hasSizeLessThanOrEqualTo(255);
    } catch (InvalidEnvelopeException e) {
      assertThat(e.code()).isIn(CODES);
    }
  }

  private static int indexOf(byte[] bytes, byte b) {
    for (int i = 0; i < bytes.length; i++) {
      if (bytes[i] == b) {
        return i;
      }
    }
    return -1;
  }
}
