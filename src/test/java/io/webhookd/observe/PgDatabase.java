package io.webhookd.observe;

import io.webhookd.testing.TestServices;
import java.net.URI;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.UUID;

/**
 * A PostgreSQL database of this test's own on the server of {@link TestServices#postgres()} (so a
 * missing server skips the test, or fails it under {@code CI=true}), dropped at the end: the shared
 * {@code webhookd_test} database is truncated by other tests, possibly at the same time.
 */
final class PgDatabase implements AutoCloseable {

  private final String user;
  private final String password;
  private final String host;
  private final int port;
  private final String name;

  private PgDatabase(String user, String password, String host, int port, String name) {
    this.user = user;
    this.password = password;
    this.host = host;
    this.port = port;
    this.name = name;
  }

  static PgDatabase create() throws SQLException {
    URI uri = URI.create(TestServices.postgres().replaceFirst("^postgres(ql)?://", "http://"));
    String user = null;
    String password = null;
    if (uri.getUserInfo() != null) {
      String[] parts = uri.getUserInfo().split(":", 2);
      user = parts[0];
      password = parts.length > 1 ? parts[1] : null;
    }
    String name = "webhookd_observe_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    try (Connection c = TestServices.jdbc(); Statement s = c.createStatement()) {
      s.execute("CREATE DATABASE \"" + name + "\"");
    }
    return new PgDatabase(user, password, uri.getHost(), uri.getPort() < 0 ? 5432 : uri.getPort(), name);
  }

  String host() {
    return host;
  }

  int port() {
    return port;
  }

  /** WEBHOOKD_PG_URL for this database, straight to the server. */
  String url() {
    return urlVia(host, port);
  }

  /** WEBHOOKD_PG_URL for this database through {@code host:port} (a proxy). */
  String urlVia(String viaHost, int viaPort) {
    String credentials = user == null ? "" : user + (password == null ? "" : ":" + password) + "@";
    return "postgresql://" + credentials + viaHost + ":" + viaPort + "/" + name;
  }

  @Override
  public void close() throws SQLException {
    try (Connection c = TestServices.jdbc(); Statement s = c.createStatement()) {
      s.execute("DROP DATABASE IF EXISTS \"" + name + "\" WITH (FORCE)");
    }
  }
}
