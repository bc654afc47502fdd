package io.webhookd.process;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** Which handler takes which event type. A type nobody handles is recorded as ignored. */
public final class HandlerRegistry {

  private final Map<String, EventHandler> handlers = new HashMap<>();

  public HandlerRegistry register(String type, EventHandler handler) {
    if (handlers.putIfAbsent(type, handler) != null) {
      throw new IllegalArgumentException("a handler for " + type + " is already registered");
    }
    return this;
  }

  /** Registers one handler for several types. */
  public HandlerRegistry register(Set<String> types, EventHandler handler) {
    types.forEach(type -> register(type, handler));
    return this;
  }

  public Optional<EventHandler> find(String type) {
    return Optional.ofNullable(handlers.get(type));
  }

  public Set<String> types() {
    return Set.copyOf(handlers.keySet());
  }
}
