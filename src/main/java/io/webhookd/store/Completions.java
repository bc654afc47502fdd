package io.webhookd.store;

import io.vertx.core.Context;
import io.vertx.core.Promise;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Completes a batch of promises on the Vert.x context of whoever asked, with one hop per context
 * rather than one per promise. Promises of callers outside any context complete at {@link #flush}.
 */
public final class Completions {

  private final Map<Context, List<Runnable>> byContext = new IdentityHashMap<>();
  private final List<Runnable> direct = new ArrayList<>();

  public <T> void succeed(Promise<T> promise, Context context, T value) {
    add(context, () -> promise.complete(value));
  }

  public void fail(Promise<?> promise, Context context, Throwable failure) {
    add(context, () -> promise.fail(failure));
  }

  private void add(Context context, Runnable completion) {
    if (context == null) {
      direct.add(completion);
    } else {
      byContext.computeIfAbsent(context, c -> new ArrayList<>()).add(completion);
    }
  }

  public void flush() {
    direct.forEach(Runnable::run);
    direct.clear();
    byContext.forEach((context, completions) -> context.runOnContext(v -> completions.forEach(Runnable::run)));
    byContext.clear();
  }
}
