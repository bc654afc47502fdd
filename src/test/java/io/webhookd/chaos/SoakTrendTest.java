package io.webhookd.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.DoubleUnaryOperator;
import org.junit.jupiter.api.Test;

/** The soak's growth rule on made-up series: 600 s sampled every 5 s, as the full soak does. */
class SoakTrendTest {

  private static final double SOAK_SECONDS = 600;

  private static List<double[]> series(DoubleUnaryOperator mib) {
    List<double[]> rows = new ArrayList<>();
    for (double t = 5; t <= SOAK_SECONDS; t += 5) {
      rows.add(new double[] {t, mib.applyAsDouble(t)});
    }
    return rows;
  }

  private static SoakTrend judge(List<double[]> rows) {
    return SoakTrend.of("RSS", rows, 1, SOAK_SECONDS, 0.05, 16);
  }

  @Test
  void aPlateauAfterWarmUpPasses() {
    // Fast growth during the first third (warm-up), then flat with noise.
    Random noise = new Random(3);
    SoakTrend trend = judge(series(t -> Math.min(300, 150 + t) + noise.nextGaussian() * 4));
    assertThat(trend.ok()).as(trend.describe()).isTrue();
    assertThat(trend.lastMean() - trend.middleMean()).isLessThan(3);
  }

  @Test
  void steadyGrowthFails() {
    // 6 MiB a minute: the last third's mean is 20 MiB above the middle third's.
    SoakTrend trend = judge(series(t -> 200 + t / 10));
    assertThat(trend.ok()).as(trend.describe()).isFalse();
    assertThat(trend.lastMean() - trend.middleMean()).isEqualTo(20, org.assertj.core.data.Offset.offset(0.5));
    assertThat(trend.describe()).contains("GROWS");
  }

  @Test
  void growthWithinTheMarginPasses() {
    // 3 MiB a minute: +10 MiB, under the 16 MiB floor of the margin.
    SoakTrend trend = judge(series(t -> 200 + t / 20));
    assertThat(trend.ok()).as(trend.describe()).isTrue();
    assertThat(trend.allowed()).isEqualTo(16);
  }

  @Test
  void theRelativeMarginAppliesToLargeValues() {
    SoakTrend trend = judge(series(t -> 1000));
    assertThat(trend.allowed()).isEqualTo(50);
  }

  @Test
  void tooFewSamplesIsNoVerdictAndNotAPass() {
    List<double[]> rows = List.of(new double[] {10, 100}, new double[] {300, 100}, new double[] {500, 100});
    SoakTrend trend = judge(rows);
    assertThat(trend.ok()).isFalse();
    assertThat(trend.describe()).contains("too few samples");
  }
}
