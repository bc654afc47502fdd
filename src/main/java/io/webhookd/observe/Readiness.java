package io.webhookd.observe;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs every check at once, each bounded in time, and folds them into one verdict: the worst
 * status of any check.
 */
public final class Readiness {

  private static final long CHECK_TIMEOUT_MILLIS = 2_000;

  private final List<HealthCheck> checks;

  public Readiness(List<HealthCheck> checks) {
    this.checks = List.copyOf(checks);
  }

  /** {@code {"status": "...", "checks": {"name": {"status": "...", ...}}}} */
  public Future<JsonObject> evaluate() {
    List<Future<HealthCheck.Result>> results = new ArrayList<>();
    for (HealthCheck check : checks) {
      results.add(safely(check));
    }
    return Future.join(results).transform(ignored -> {
      JsonObject details = new JsonObject();
      HealthCheck.Status worst = HealthCheck.Status.HEALTHY;
      for (int i = 0; i < checks.size(); i++) {
        HealthCheck.Result result = results.get(i).result();
        worst = result.status().compareTo(worst) > 0 ? result.status() : worst;
        details.put(checks.get(i).name(), result.details().copy().put("status", result.status().label()));
      }
      return Future.succeededFuture(new JsonObject().put("status", worst.label()).put("checks", details));
    });
  }

  private static Future<HealthCheck.Result> safely(HealthCheck check) {
    Future<HealthCheck.Result> run;
    try {
      run = check.run();
    } catch (RuntimeException e) {
      run = Future.failedFuture(e);
    }
    return run.timeout(CHECK_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS)
        .otherwise(e -> HealthCheck.Result.of(HealthCheck.Status.UNHEALTHY, String.valueOf(e.getMessage())));
  }
}
