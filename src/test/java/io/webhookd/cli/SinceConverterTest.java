package io.webhookd.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;
import picocli.CommandLine.TypeConversionException;

/** {@code --since}: durations back from now, ISO-8601 instants, offsets and dates. */
class SinceConverterTest {

  private static final Instant NOW = Instant.parse("2026-04-13T12:00:00Z");
  private final SinceConverter since = new SinceConverter(Clock.fixed(NOW, ZoneOffset.UTC));

  @Test
  void aDurationIsThatLongAgo() {
    assertThat(since.convert("2h")).isEqualTo(NOW.minus(Duration.ofHours(2)));
    assertThat(since.convert("30m")).isEqualTo(NOW.minus(Duration.ofMinutes(30)));
    assertThat(since.convert("7d")).isEqualTo(NOW.minus(Duration.ofDays(7)));
    assertThat(since.convert("90s")).isEqualTo(NOW.minusSeconds(90));
    assertThat(since.convert("1w")).isEqualTo(NOW.minus(Duration.ofDays(7)));
    assertThat(since.convert(" 15 M ")).isEqualTo(NOW.minus(Duration.ofMinutes(15)));
  }

  @Test
  void aPointInTimeIsThatPoint() {
    assertThat(since.convert("2026-04-12T08:30:00Z")).isEqualTo(Instant.parse("2026-04-12T08:30:00Z"));
    assertThat(since.convert("2026-04-12T10:30:00+02:00")).isEqualTo(Instant.parse("2026-04-12T08:30:00Z"));
    assertThat(since.convert("2026-04-12")).isEqualTo(Instant.parse("2026-04-12T00:00:00Z"));
  }

  @Test
  void anythingElseIsRefusedSayingWhatIsExpected() {
    assertThatThrownBy(() -> since.convert("yesterday")).isInstanceOf(TypeConversionException.class)
        .hasMessageContaining("2h").hasMessageContaining("ISO-8601");
    assertThatThrownBy(() -> since.convert("2h30m")).isInstanceOf(TypeConversionException.class);
    assertThatThrownBy(() -> since.convert("-2h")).isInstanceOf(TypeConversionException.class);
  }

  @Test
  void onTheCommandLineABadValueIsAUsageError() {
    Cli.Result result = Cli.run("dlq", "list", "--since", "last tuesday");

    assertThat(result.exitCode()).as("%s", result).isEqualTo(2);
    assertThat(result.err()).contains("--since").contains("last tuesday");
  }
}
