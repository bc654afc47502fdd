package io.webhookd.crm;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.google.i18n.phonenumbers.NumberParseException;
import com.google.i18n.phonenumbers.PhoneNumberUtil;
import com.google.i18n.phonenumbers.Phonenumber.PhoneNumber;
import java.util.Optional;

/** Phone numbers in E.164 (+15555550100), the one form the CRM stores and compares. */
public final class PhoneNumbers {

  private static final PhoneNumberUtil UTIL = PhoneNumberUtil.getInstance();

  /** Enough for a small business's contacts and lines; a miss only costs a parse. */
  private static final int CACHE_SIZE = 10_000;

  private final String defaultRegion;
  /**
   * Parsing is costly (libphonenumber's patterns) and runs for every event, on the event loops or
   * inside handler transactions (on SQLite, on its one writer thread), while the same few numbers
   * come back in every event.
   */
  private final Cache<String, Optional<String>> parsed = Caffeine.newBuilder()
      .maximumSize(CACHE_SIZE)
      .executor(Runnable::run)
      .build();

  /** @param defaultRegion how to read a number without a country code, e.g. US */
  public PhoneNumbers(String defaultRegion) {
    this.defaultRegion = defaultRegion;
  }

  /** E.164, or null when the text is not a possible phone number (a short code, an email...). */
  public String e164(String raw) {
    if (raw == null || raw.isBlank()) {
      return null;
    }
    return parsed.get(raw, text -> Optional.ofNullable(parse(text))).orElse(null);
  }

  private String parse(String raw) {
    try {
      PhoneNumber number = UTIL.parse(raw.trim(), defaultRegion);
      return UTIL.isPossibleNumber(number) ? UTIL.format(number, PhoneNumberUtil.PhoneNumberFormat.E164) : null;
    } catch (NumberParseException e) {
      return null;
    }
  }

  /** The last four digits at most, for logs. */
  public static String masked(String number) {
    return number == null || number.length() <= 4 ? "****" : "…" + number.substring(number.length() - 4);
  }
}
