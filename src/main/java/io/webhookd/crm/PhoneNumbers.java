package io.webhookd.crm;

import com.google.i18n.phonenumbers.NumberParseException;
import com.google.i18n.phonenumbers.PhoneNumberUtil;
import com.google.i18n.phonenumbers.Phonenumber.PhoneNumber;

/** Phone numbers in E.164 (+15555550100), the one form the CRM stores and compares. */
public final class PhoneNumbers {

  private static final PhoneNumberUtil UTIL = PhoneNumberUtil.getInstance();

  private final String defaultRegion;

  /** @param defaultRegion how to read a number without a country code, e.g. US */
  public PhoneNumbers(String defaultRegion) {
    this.defaultRegion = defaultRegion;
  }

  /** E.164, or null when the text is not a possible phone number (a short code, an email...). */
  public String e164(String raw) {
    if (raw == null || raw.isBlank()) {
      return null;
    }
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
