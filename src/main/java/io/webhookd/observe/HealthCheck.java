package io.webhookd.observe;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.util.function.Supplier;

/**
 * One readiness check. It completes with its result; a check that throws or fails counts as
 * unhealthy.
 */
public interface HealthCheck {

  enum Status {
    HEALTHY, DEGRADED, UNHEALTHY;

    public String label() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /** @param details  short facts for the operator (no secrets) */
  record Result(Status status, JsonObject details) {
    public static Result healthy() {
      return new Result(Status.HEALTHY, new JsonObject());
    }

    public static Result of(Status status, String message) {
      return new Result(status, new JsonObject().put("message", message));
    }
  }

  String name();

  Future<Result> run();

  static HealthCheck of(String name, Supplier<Future<Result>> run) {
    return new HealthCheck() {
      @Override
      public String name() {
        return name;
      }

      @Override
      public Future<Result> run() {
        return run.get();
      }
    };
  }
}
