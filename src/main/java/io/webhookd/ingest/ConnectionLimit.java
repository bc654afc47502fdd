package io.webhookd.ingest;

import io.vertx.core.http.HttpConnection;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Caps the connections open to the listener across all its instances. A connection over the cap is
 * not silently dropped: its requests are answered 503 and it is closed, so the client knows.
 */
public final class ConnectionLimit {

  private final int max;
  private final AtomicInteger open = new AtomicInteger();
  private final Set<HttpConnection> over = ConcurrentHashMap.newKeySet();

  public ConnectionLimit(int max) {
    this.max = max;
  }

  /** For {@code HttpServer.connectionHandler}. */
  public void opened(HttpConnection connection) {
    if (open.incrementAndGet() > max) {
      over.add(connection);
    }
    connection.closeHandler(v -> {
      open.decrementAndGet();
      over.remove(connection);
    });
  }

  public boolean isOver(HttpConnection connection) {
    return !over.isEmpty() && over.contains(connection);
  }
}
