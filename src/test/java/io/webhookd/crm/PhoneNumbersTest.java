package io.webhookd.crm;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.NullAndEmptySource;
import org.junit.jupiter.params.provider.ValueSource;

/** Phone numbers to E.164, read in the default region US unless they carry a country code. */
class PhoneNumbersTest {

  private final PhoneNumbers us = new PhoneNumbers("US");

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "+18005550100|+18005550100",
      "(800) 555-0100|+18005550100",
      "800-555-0100|+18005550100",
      "800.555.0100|+18005550100",
      "8005550100|+18005550100",
      "1 800 555 0100|+18005550100",
      "1-800-555-0100|+18005550100",
      "+1 (800) 555-0100|+18005550100",
      "'  +1 800 555 0100  '|+18005550100",
      "+44 20 7946 0958|+442079460958",
      "+49 30 901820|+4930901820",
  })
  void readsCommonFormatsAsE164(String raw, String e164) {
    assertThat(us.e164(raw)).isEqualTo(e164);
  }

  @Test
  void aNumberWithoutCountryCodeIsReadInTheDefaultRegion() {
    assertThat(new PhoneNumbers("GB").e164("020 7946 0958")).isEqualTo("+442079460958");
    assertThat(us.e164("020 7946 0958")).isNotEqualTo("+442079460958");
  }

  @ParameterizedTest
  @NullAndEmptySource
  @ValueSource(strings = {"   ", "not a number", "call me", "jayson@example.com", "12", "+", "555", "+1 800",
      "123456789012345678901"})
  void garbageIsNull(String raw) {
    assertThat(us.e164(raw)).isNull();
  }

  @Test
  void maskedShowsTheLastFourDigitsAtMost() {
    assertThat(PhoneNumbers.masked("+18005550100")).isEqualTo("…0100");
    assertThat(PhoneNumbers.masked(null)).isEqualTo("****");
    assertThat(PhoneNumbers.masked("123")).isEqualTo("****");
  }
}
