package io.webhookd.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.webhookd.event.WebhookEvent;
import io.webhookd.testing.Fixtures;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class EnvelopeParserTest {

  private static final long RECEIVED_AT = Instant.parse("2026-04-13T12:00:01Z").toEpochMilli();
  private static final String CONVERSATION = "conversation:CN78ba0373683c48fd8fd96bc836c51f79";

  static Stream<Arguments> fixtures() {
    return Stream.of(
        Arguments.of(Fixtures.API_V4_MESSAGE_RECEIVED, "message.received",
            "EVc67ec998b35c41d388af50799aeeba3f", "2022-01-23T16:55:52.557Z",
            "numbers:+15555555555|+19876543210"),
        Arguments.of(Fixtures.LEGACY_V2_MESSAGE_DELIVERED, "message.delivered",
            "EVdefd85c2c3b740429cf28ade5b69bcba", "2022-01-23T16:56:10.101Z", CONVERSATION),
        Arguments.of(Fixtures.LEGACY_V2_MESSAGE_RECEIVED, "message.received",
            "EVc67ec998b35c41d388af50799aeeba3e", "2022-01-23T16:55:52.557Z", CONVERSATION),
        Arguments.of(Fixtures.LEGACY_V3_CALL_COMPLETED, "call.completed",
            "EVd39d3c8d6f244d21a9131de4fc9350d0", "2022-01-24T19:22:25.427Z", CONVERSATION),
        Arguments.of(Fixtures.LEGACY_V3_CALL_RECORDING_COMPLETED, "call.recording.completed",
            "EV5b1f1f7d2a1c4f0e9a3b6d8c7e2f4a10", "2022-01-24T19:23:02.118Z", CONVERSATION),
        Arguments.of(Fixtures.LEGACY_V3_CALL_RINGING, "call.ringing",
            "EV26b7a0ea6d7d4b6d9ecfd0e1e4c0d8a2", "2022-01-24T19:21:59.601Z", CONVERSATION),
        Arguments.of(Fixtures.LEGACY_V3_CONTACT_UPDATED, "contact.updated",
            "EVe1cb0b9c96a34a239fc8cdfd9085863b", "2023-03-30T22:32:12.339Z",
            "resource:CT64260c5cd1c90ca558ff6edb"),
        Arguments.of(Fixtures.V2026_MESSAGE_RECEIVED, "message.received",
            "EV0f3c9a1b2d4e4f5a8b7c6d5e4f3a2b1c", "2026-04-13T12:00:00.000Z", CONVERSATION));
  }

  @Test
  void everyFixtureIsCovered() {
    assertThat(fixtures().map(a -> (String) a.get()[0])).containsExactlyInAnyOrderElementsOf(Fixtures.ALL);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("fixtures")
  void parsesEachFixture(String fixture, String type, String eventId, String createdAt, String partitionKey)
      throws InvalidEnvelopeException {
    byte[] body = Fixtures.bytes(fixture);
    byte[] original = body.clone();

    WebhookEvent event = EnvelopeParser.parse(body, "openphone", null, RECEIVED_AT).event();

    assertThat(event.source()).isEqualTo(WebhookEvent.SOURCE_OPENPHONE);
    assertThat(event.type()).isEqualTo(type);
    assertThat(event.eventId()).isEqualTo(eventId);
    assertThat(event.occurredAt()).isEqualTo(Instant.parse(createdAt).toEpochMilli());
    assertThat(event.partitionKey()).isEqualTo(partitionKey);
    assertThat(event.receivedAt()).isEqualTo(RECEIVED_AT);
    assertThat(event.scheme()).isEqualTo("openphone");
    assertThat(event.body()).isEqualTo(original);
    assertThat(event.dedupKey()).isEqualTo("openphone:" + eventId);
  }

  @Test
  void webhookIdWinsOverTheBodyIdFor2026Envelopes() throws InvalidEnvelopeException {
    byte[] body = Fixtures.bytes(Fixtures.V2026_MESSAGE_RECEIVED);
    WebhookEvent event = EnvelopeParser.parse(body, "standard-webhooks", "msg_2VxQ7example", RECEIVED_AT).event();
    assertThat(event.eventId()).isEqualTo("msg_2VxQ7example");
    assertThat(event.scheme()).isEqualTo("standard-webhooks");
    assertThat(event.type()).isEqualTo("message.received");
    assertThat(event.partitionKey()).isEqualTo(CONVERSATION);
    assertThat(event.occurredAt()).isEqualTo(Instant.parse("2026-04-13T12:00:00.000Z").toEpochMilli());
  }

  @Test
  void messageTextAndDirectionAreReadFromEachGeneration() throws InvalidEnvelopeException {
    Envelope v2026 = EnvelopeParser.parse(Fixtures.bytes(Fixtures.V2026_MESSAGE_RECEIVED), "standard-webhooks",
        "msg_1", RECEIVED_AT);
    Envelope v4 = EnvelopeParser.parse(Fixtures.bytes(Fixtures.API_V4_MESSAGE_RECEIVED), "openphone", null,
        RECEIVED_AT);
    Envelope delivered = EnvelopeParser.parse(Fixtures.bytes(Fixtures.LEGACY_V2_MESSAGE_DELIVERED), "openphone",
        null, RECEIVED_AT);
    Envelope contact = EnvelopeParser.parse(Fixtures.bytes(Fixtures.LEGACY_V3_CONTACT_UPDATED), "openphone",
        null, RECEIVED_AT);

    assertThat(v2026.text()).isEqualTo("STOP");
    assertThat(v2026.inbound()).isTrue();
    assertThat(v4.text()).isEqualTo("Hello, world!");
    assertThat(v4.inbound()).isTrue();
    assertThat(delivered.text()).isEqualTo("Thanks, we will call you today");
    assertThat(delivered.inbound()).isFalse();
    assertThat(contact.text()).isNull();
    assertThat(contact.inbound()).isFalse();
  }

  @Test
  void bodyIsKeptByteIdenticalEvenWhenJsonCouldBeNormalised() throws InvalidEnvelopeException {
    // Whitespace, key order and escapes a re-encoder would change.
    String text = "{ \"type\" : \"message.received\",\n  \"id\":\"EV1\", \"data\": {\"object\": "
        + "{\"from\":\"+1\\u0032\",\"to\":\"+13\",\"body\":\"caf\u00e9 \\/ \ud83d\ude00\"}} }\n";
    byte[] body = text.getBytes(StandardCharsets.UTF_8);
    WebhookEvent event = EnvelopeParser.parse(body, "seed", null, RECEIVED_AT).event();
    assertThat(event.body()).isEqualTo(text.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void numbersPairIsTheSameWhicheverSideSent() throws InvalidEnvelopeException {
    WebhookEvent inbound = parse("{\"id\":\"EV1\",\"type\":\"message.received\",\"data\":{\"object\":"
        + "{\"from\":\"+19990000002\",\"to\":[\"+19990000001\"],\"text\":\"hi\"}}}");
    WebhookEvent outbound = parse("{\"id\":\"EV2\",\"type\":\"message.delivered\",\"data\":{\"object\":"
        + "{\"from\":\"+19990000001\",\"to\":\"+19990000002\",\"body\":\"hello\"}}}");
    assertThat(inbound.partitionKey()).isEqualTo("numbers:+19990000001|+19990000002");
    assertThat(outbound.partitionKey()).isEqualTo(inbound.partitionKey());
  }

  @Test
  void resourceIdIsTheFallbackPartitionWhenThereIsNoConversationNorNumbers() throws InvalidEnvelopeException {
    WebhookEvent event = parse("{\"id\":\"EV1\",\"type\":\"contact.deleted\",\"data\":{\"object\":{\"id\":\"CT1\"}}}");
    assertThat(event.partitionKey()).isEqualTo("resource:CT1");
  }

  @Test
  void occurredAtFallsBackToReceivedAtWithoutAReadableCreatedAt() throws InvalidEnvelopeException {
    WebhookEvent none = parse("{\"id\":\"EV1\",\"type\":\"call.ringing\",\"data\":{\"object\":{\"id\":\"AC1\"}}}");
    WebhookEvent garbled = parse("{\"id\":\"EV1\",\"type\":\"call.ringing\",\"createdAt\":\"yesterday\"}");
    assertThat(none.occurredAt()).isEqualTo(RECEIVED_AT);
    assertThat(garbled.occurredAt()).isEqualTo(RECEIVED_AT);
  }

  // ---- events without an id ---------------------------------------------------------------------

  private static String withoutId(String text, String status) {
    return "{\"object\":\"event\",\"createdAt\":\"2022-01-23T16:55:52.557Z\",\"type\":\"message.received\","
        + "\"data\":{\"object\":{\"from\":\"+18005550100\",\"to\":\"+18885550101\",\"body\":\"" + text
        + "\",\"status\":\"" + status + "\"}}}";
  }

  @Test
  void bodyWithoutIdGetsAStableContentId() throws InvalidEnvelopeException {
    WebhookEvent first = parse(withoutId("hello", "received"));
    // Same identifying fields; a field that does not identify the event differs, and so does layout.
    WebhookEvent again = parse(withoutId("hello", "delivered").replace(",", ", "));

    assertThat(first.eventId()).matches("sha256:[0-9a-f]{64}");
    assertThat(again.eventId()).isEqualTo(first.eventId());
    assertThat(parse(withoutId("hello", "received")).eventId()).isEqualTo(first.eventId());
  }

  @Test
  void bodyWithoutIdGetsADifferentIdWhenTheTextDiffers() throws InvalidEnvelopeException {
    WebhookEvent hello = parse(withoutId("hello", "received"));
    WebhookEvent bye = parse(withoutId("bye", "received"));
    assertThat(bye.eventId()).startsWith("sha256:").isNotEqualTo(hello.eventId());
  }

  @Test
  void bodyWithEmptyIdGetsAContentId() throws InvalidEnvelopeException {
    WebhookEvent event = parse("{\"id\":\"\",\"type\":\"message.received\"}");
    assertThat(event.eventId()).startsWith("sha256:");
  }

  // ---- refusals ---------------------------------------------------------------------------------

  @ParameterizedTest
  @ValueSource(strings = {"not json", "", "{", "{\"type\":\"message.received\"", "<xml/>", "\"a string\"", "42",
      "true"})
  void nonJsonIsInvalidJson(String text) {
    assertRefused(text, "invalid_json");
  }

  @Test
  void jsonArrayIsInvalidJson() {
    assertRefused("[{\"id\":\"EV1\",\"type\":\"message.received\"}]", "invalid_json");
  }

  @Test
  void jsonNullIsInvalidJson() {
    assertRefused("null", "invalid_json");
  }

  @Test
  void bodyThatIsNotUtf8IsInvalidJson() {
    byte[] latin1 = "{\"id\":\"EV1\",\"type\":\"message.received\",\"x\":\"caf\u00e9\"}"
        .getBytes(StandardCharsets.ISO_8859_1);
    assertThatThrownBy(() -> EnvelopeParser.parse(latin1, "openphone", null, RECEIVED_AT))
        .isInstanceOf(InvalidEnvelopeException.class)
        .extracting(e -> ((InvalidEnvelopeException) e).code()).isEqualTo("invalid_json");
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "{}",
      "{\"id\":\"EV1\"}",
      "{\"id\":\"EV1\",\"type\":\"\"}",
      "{\"id\":\"EV1\",\"type\":null}",
      "{\"id\":\"EV1\",\"type\":42}",
      "{\"id\":\"EV1\",\"type\":{\"name\":\"message.received\"}}"})
  void objectWithoutTypeIsInvalidEnvelope(String text) {
    assertRefused(text, "invalid_envelope");
  }

  @Test
  void overlongEventIdIsInvalidEnvelope() {
    assertRefused("{\"id\":\"" + "E".repeat(256) + "\",\"type\":\"message.received\"}", "invalid_envelope");
  }

  private static WebhookEvent parse(String text) throws InvalidEnvelopeException {
    return EnvelopeParser.parse(text.getBytes(StandardCharsets.UTF_8), "openphone", null, RECEIVED_AT).event();
  }

  private static void assertRefused(String text, String code) {
    assertThatThrownBy(() -> parse(text))
        .isInstanceOf(InvalidEnvelopeException.class)
        .satisfies(e -> {
          assertThat(((InvalidEnvelopeException) e).code()).isEqualTo(code);
          assertThat(e.getMessage()).isNotBlank();
        });
  }
}
