package io.webhookd.cli;

import io.webhookd.config.Durations;
import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * {@code --since}: a duration back from now, as {@link Durations} reads it ({@code 90s}, {@code 30m},
 * {@code 2h}, {@code 7d}), or a point in time in ISO-8601 ({@code 2026-04-13T12:00:00Z},
 * {@code 2026-04-13T14:00:00+02:00}, or a date, meaning its start in UTC).
 */
final class SinceConverter implements ITypeConverter<Instant> {

  private final Clock clock;

  SinceConverter() {
    this(Clock.systemUTC());
  }

  SinceConverter(Clock clock) {
    this.clock = clock;
  }

  @Override
  public Instant convert(String value) {
    String text = value.trim();
    try {
      return clock.instant().minus(Durations.parse(text));
    } catch (IllegalArgumentException notADuration) {
      // then it is a point in time
    }
    try {
      return Instant.parse(text);
    } catch (DateTimeParseException notInstant) {
      try {
        return OffsetDateTime.parse(text).toInstant();
      } catch (DateTimeParseException notOffset) {
        try {
          return LocalDate.parse(text).atStartOfDay(ZoneOffset.UTC).toInstant();
        } catch (DateTimeParseException notDate) {
          throw new TypeConversionException("'" + value + "' is neither a duration (30m, 2h, 7d) nor an"
              + " ISO-8601 instant (2026-04-13T12:00:00Z) or date (2026-04-13)");
        }
      }
    }
  }
}
