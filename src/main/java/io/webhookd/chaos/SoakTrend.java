package io.webhookd.chaos;

import java.util.List;
import java.util.Locale;

/**
 * The soak's "no growth trend" rule for one measure (RSS, heap in use): the soak's first third is
 * warm-up (JIT, pools, bounded caches filling) and is left out; the mean of the last third may
 * exceed the mean of the middle third by at most {@code max(relative * middle mean, absolute)}.
 * A leak shows as a last third above the middle one by more than GC and allocator noise; a
 * plateau, however high, passes.
 *
 * @param middleMean mean over the middle third, MiB
 * @param lastMean   mean over the last third, MiB
 * @param allowed    the growth allowed, MiB
 * @param samples    samples in the middle and last thirds together
 */
record SoakTrend(String what, double middleMean, double lastMean, double allowed, int samples) {

  /** Fewer samples than this per third says nothing about a trend. */
  static final int MIN_SAMPLES_PER_THIRD = 3;

  /**
   * @param rows     {seconds since the soak began, value...} rows
   * @param column   which value
   * @param duration the soak's length in seconds (the thirds are of it, not of the samples)
   */
  static SoakTrend of(String what, List<double[]> rows, int column, double duration, double relative,
      double absolute) {
    double middleSum = 0;
    int middle = 0;
    double lastSum = 0;
    int last = 0;
    for (double[] row : rows) {
      if (row[0] >= 2 * duration / 3) {
        lastSum += row[column];
        last++;
      } else if (row[0] >= duration / 3) {
        middleSum += row[column];
        middle++;
      }
    }
    if (middle < MIN_SAMPLES_PER_THIRD || last < MIN_SAMPLES_PER_THIRD) {
      return new SoakTrend(what, Double.NaN, Double.NaN, Double.NaN, middle + last);
    }
    double middleMean = middleSum / middle;
    return new SoakTrend(what, middleMean, lastSum / last, Math.max(relative * middleMean, absolute), middle + last);
  }

  /** False also when there were too few samples to judge: no verdict is not a pass. */
  boolean ok() {
    return !Double.isNaN(middleMean) && lastMean - middleMean <= allowed;
  }

  String describe() {
    if (Double.isNaN(middleMean)) {
      return String.format(Locale.ROOT, "%s: too few samples (%d) to judge", what, samples);
    }
    return String.format(Locale.ROOT, "%s %.1f -> %.1f MiB (%+.1f, allowed +%.1f) %s", what, middleMean, lastMean,
        lastMean - middleMean, allowed, ok() ? "ok" : "GROWS");
  }
}
