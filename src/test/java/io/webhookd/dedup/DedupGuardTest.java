package io.webhookd.dedup;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Future;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class DedupGuardTest {

  private static final String KEY = "openphone:EVc67ec998b35c41d388af50799aeeba3e";

  /** The futures here are all already complete, so their results can be read directly. */
  private static <T> T now(Future<T> future) {
    assertThat(future.isComplete()).as("future completed synchronously").isTrue();
    assertThat(future.succeeded()).as("future succeeded: %s", future.cause()).isTrue();
    return future.result();
  }

  /** A real in-test tier: remembers in a set, or fails every lookup when told to. */
  private static final class RecordingTier implements DedupTier {
    private final String name;
    private final boolean failing;
    private final Set<String> keys = new HashSet<>();
    private final List<String> asked = new ArrayList<>();

    RecordingTier(String name, boolean failing) {
      this.name = name;
      this.failing = failing;
    }

    @Override
    public String name() {
      return name;
    }

    @Override
    public Future<Boolean> contains(String key) {
      asked.add(key);
      return failing ? Future.failedFuture(new IllegalStateException(name + " is down"))
          : Future.succeededFuture(keys.contains(key));
    }

    @Override
    public void remember(String key) {
      keys.add(key);
    }
  }

  @Test
  void localTierRemembersKeys() {
    LocalDedupTier tier = new LocalDedupTier(1000, Duration.ofHours(28));
    assertThat(tier.name()).isEqualTo("caffeine");
    assertThat(now(tier.contains(KEY))).isFalse();
    tier.remember(KEY);
    assertThat(now(tier.contains(KEY))).isTrue();
    assertThat(now(tier.contains(KEY + "x"))).isFalse();
  }

  @Test
  void knownByNamesTheLocalTierOnlyAfterRemember() {
    DedupGuard guard = new DedupGuard(List.of(new LocalDedupTier(1000, Duration.ofHours(28))));
    assertThat(now(guard.knownBy(KEY))).isNull();
    guard.remember(KEY);
    assertThat(now(guard.knownBy(KEY))).isEqualTo("caffeine");
    assertThat(now(guard.knownBy("openphone:other"))).isNull();
  }

  @Test
  void withoutTiersNothingIsKnown() {
    DedupGuard guard = new DedupGuard(List.of());
    guard.remember(KEY);
    assertThat(now(guard.knownBy(KEY))).isNull();
  }

  @Test
  void aTierWhoseLookupFailsCountsAsNotKnowing() {
    RecordingTier down = new RecordingTier("shared", true);
    DedupGuard guard = new DedupGuard(List.of(down));
    guard.remember(KEY);
    assertThat(now(guard.knownBy(KEY))).isNull();
    assertThat(down.asked).containsExactly(KEY);
  }

  @Test
  void aFailingTierDoesNotHideTheTiersAfterIt() {
    RecordingTier down = new RecordingTier("shared", true);
    LocalDedupTier local = new LocalDedupTier(1000, Duration.ofHours(28));
    DedupGuard guard = new DedupGuard(List.of(down, local));
    assertThat(now(guard.knownBy(KEY))).isNull();
    guard.remember(KEY);
    assertThat(now(guard.knownBy(KEY))).isEqualTo("caffeine");
  }

  @Test
  void tiersAreAskedInOrderAndTheFirstThatKnowsAnswers() {
    RecordingTier first = new RecordingTier("first", false);
    RecordingTier second = new RecordingTier("second", false);
    DedupGuard guard = new DedupGuard(List.of(first, second));

    second.remember(KEY); // only the second tier knows it
    assertThat(now(guard.knownBy(KEY))).isEqualTo("second");
    assertThat(first.asked).containsExactly(KEY);

    guard.remember(KEY); // every tier learns it
    assertThat(first.keys).contains(KEY);
    assertThat(now(guard.knownBy(KEY))).isEqualTo("first");
    assertThat(second.asked).containsExactly(KEY); // not asked again once the first tier knew
  }
}
