package io.webhookd.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;

/** The machine's busy cores over an interval, split into this run and everything else. */
class CpuShareTest {

  private static final Pattern LINE = Pattern.compile(
      "machine busy ([0-9.]+) of (\\d+) cores on average: this run ([0-9.]+), other processes ([0-9.]+)");

  @Test
  void aBusyIntervalIsBilledToThisRunAndNeverMoreThanTheMachine() {
    CpuShare start = CpuShare.now();
    long until = System.nanoTime() + 300_000_000L;
    long spin = 0;
    while (System.nanoTime() < until) {
      spin += Long.numberOfTrailingZeros(spin + System.nanoTime());
    }
    String line = CpuShare.now().since(start);

    Matcher m = LINE.matcher(line);
    assertThat(m.matches()).as("%s (spun %d)", line, spin).isTrue();
    double busy = Double.parseDouble(m.group(1));
    double ours = Double.parseDouble(m.group(3));
    double others = Double.parseDouble(m.group(4));
    assertThat(Integer.parseInt(m.group(2))).isEqualTo(Runtime.getRuntime().availableProcessors());
    // One thread spun the whole interval: most of a core is this run's.
    assertThat(ours).isGreaterThan(0.5).isLessThanOrEqualTo(busy);
    assertThat(busy).isLessThanOrEqualTo(Runtime.getRuntime().availableProcessors() + 0.05);
    assertThat(ours + others).isCloseTo(busy, Offset.offset(0.011));
  }
}
