package io.webhookd.process;

import io.vertx.core.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.DoubleSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fails a chosen fraction of processing attempts on purpose ({@code process.fault-rate}), to show
 * under test that retries, the dead-letter queue and a replay keep every effect exactly once. The
 * failure comes after the handler's effects, inside their transaction (which would then carry the
 * event's status change), so everything the attempt wrote rolls back as it would on a real failure
 * at the last moment. It is
 * {@link FailureKind#TRANSIENT}: retried with backoff, dead-lettered when retries run out.
 * For resilience tests only; never set in production.
 */
public final class FaultInjector {

  private static final Logger LOG = LoggerFactory.getLogger(FaultInjector.class);

  /** Injects nothing. */
  public static final FaultInjector NONE = new FaultInjector(0, () -> 1);

  private final double rate;
  private final DoubleSupplier random;

  FaultInjector(double rate, DoubleSupplier random) {
    if (!(rate >= 0 && rate <= 1)) {
      throw new IllegalArgumentException("fault rate " + rate + " is outside 0..1");
    }
    this.rate = rate;
    this.random = random;
  }

  /** The injector for {@code process.fault-rate}; warns once when it will inject anything. */
  public static FaultInjector of(double rate) {
    if (rate == 0) {
      return NONE;
    }
    LOG.warn("process.fault-rate is {}: that fraction of processing attempts fails on purpose (resilience"
        + " testing only; never set it in production)", rate);
    return new FaultInjector(rate, () -> ThreadLocalRandom.current().nextDouble());
  }

  public double rate() {
    return rate;
  }

  /** {@code result} as it is, or, for a {@code rate} fraction of calls, an {@link InjectedFault}. */
  public <T> Future<T> beforeCommit(T result) {
    // nextDouble() is in [0, 1): rate 0 never fails, rate 1 always does.
    if (rate > 0 && random.getAsDouble() < rate) {
      return Future.failedFuture(new InjectedFault(rate));
    }
    return Future.succeededFuture(result);
  }

  /** The failure injected; its message says so, for the audit trail and the dead letter. */
  public static final class InjectedFault extends RuntimeException {
    InjectedFault(double rate) {
      super("injected fault (process.fault-rate " + rate + ")", null, false, false);
    }
  }
}
