package io.webhookd.testing;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;

/** Reads the service's short JSON answers the same way in every test that talks HTTP to it. */
public final class JsonAnswer {

  private JsonAnswer() {
  }

  /** The body as a JSON object; an assertion failure naming the answer when it is not one. */
  public static JsonObject parse(int status, String body, Object shown) {
    try {
      return new JsonObject(body);
    } catch (DecodeException e) {
      throw new AssertionError("answer " + status + " is not a JSON object: " + shown, e);
    }
  }

  /** {@code error} of an error answer, {@code status} of a success answer. */
  public static String code(JsonObject json) {
    return json.containsKey("error") ? json.getString("error") : json.getString("status");
  }
}
