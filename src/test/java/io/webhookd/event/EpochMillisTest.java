package io.webhookd.event;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@link OpenPhoneEnvelope#epochMillis} reads every timestamp exactly as {@link Instant#parse} does. */
class EpochMillisTest {

  @ParameterizedTest
  @ValueSource(strings = {
      "2022-01-23T16:55:52.557Z", "2024-05-01T10:00:00Z", "2024-02-29T23:59:59.999Z", "1970-01-01T00:00:00Z",
      "1969-12-31T23:59:59.5Z", "2024-05-01T10:00:00.1Z", "2024-05-01T10:00:00.123456789Z",
      "2024-05-01T10:00:00.000001Z", "9999-12-31T23:59:59.999Z", "0001-01-01T00:00:00Z",
      "2024-05-01T10:00:00+02:00", "2024-05-01T10:00:00.5+00:00", "2016-12-31T23:59:60Z",
      "2024-05-01T24:00:00Z", "2024-05-01T10:00:00.Z", "2024-05-01T10:60:00Z", "2024-05-01T10:00:00.1234567890Z",
      "2024-05-01 10:00:00Z", "2024-5-01T10:00:00Z", "2024-05-01T10:00:0aZ", "2024-05-01"})
  void readsWhatInstantParseReadsTheSameWay(String text) {
    assertThat(OpenPhoneEnvelope.epochMillis(text)).as(text).isEqualTo(reference(text));
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "2023-02-29T10:00:00Z", "2024-04-31T10:00:00Z", "2024-13-01T10:00:00Z", "2024-00-01T10:00:00Z",
      "yesterday", ""})
  void refusesWhatInstantParseRefuses(String text) {
    assertThat(reference(text)).as("Instant.parse(%s)", text).isNull();
    assertThat(OpenPhoneEnvelope.epochMillis(text)).as(text).isNull();
  }

  @Test
  void agreesWithInstantParseOnRandomInstantsAndFractionWidths() {
    Random random = new Random(7);
    for (int i = 0; i < 20_000; i++) {
      Instant instant = Instant.ofEpochSecond(random.nextLong(-2_000_000_000L, 4_000_000_000L), random.nextInt(1_000_000_000));
      String text = instant.toString();
      assertThat(OpenPhoneEnvelope.epochMillis(text)).as(text).isEqualTo(instant.toEpochMilli());
    }
  }

  private static Long reference(String text) {
    try {
      return Instant.parse(text).toEpochMilli();
    } catch (DateTimeParseException e) {
      return null;
    }
  }
}
