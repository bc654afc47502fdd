package io.webhookd.it;

import io.webhookd.testing.TestServices;
import java.net.URI;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import java.util.UUID;

/**
 * A database of its own for one test, on the PostgreSQL server of {@link TestServices#postgres()}
 * (so a missing server skips or fails the test as everywhere else). The shared {@code webhookd_test}
 * database is truncated by other tests ({@code TestServices.truncateAll()}), and on a shared machine
 * they may run at the same time as this one: a truncation in the middle of a test would look like
 * acknowledged events lost. The servers under test migrate the empty database themselves; it is
 * dropped at the end.
 */
final class PrivateDatabase implements AutoCloseable {

  private final String user;
  private final String password;
  private final String host;
  private final int port;
  private final String name;

  private PrivateDatabase(String user, String password, String host, int port, String name) {
    this.user = user;
    this.password = password;
    this.host = host;
    this.port = port;
    this.name = name;
  }

  /** Creates {@code webhookd_it_<hint>_<random>}. */
  static PrivateDatabase create(String hint) throws SQLException {
    URI uri = URI.create(TestServices.postgres().replaceFirst("^postgres(ql)?://", "http://"));
    String user = null;
    String password = null;
    if (uri.getUserInfo() != null) {
      String[] parts = uri.getUserInfo().split(":", 2);
      user = parts[0];
      password = parts.length > 1 ? parts[1] : null;
    }
    String name = "webhookd_it_" + hint.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]", "") + "_"
        + UUID.randomUUID().toString().substring(0, 8);
    PrivateDatabase db = new PrivateDatabase(user, password, uri.getHost(), uri.getPort() < 0 ? 5432 : uri.getPort(),
        name);
    try (Connection c = TestServices.jdbc(); Statement s = c.createStatement()) {
      s.execute("CREATE DATABASE \"" + name + "\"");
    }
    return db;
  }

  /** For WEBHOOKD_PG_URL: straight to the server. */
  String url() {
    return urlVia(host, port);
  }

  /** For WEBHOOKD_PG_URL through a proxy at {@code proxyHost:proxyPort}. */
  String urlVia(String proxyHost, int proxyPort) {
    String credentials = user == null ? "" : user + (password == null ? "" : ":" + password) + "@";
    return "postgresql://" + credentials + proxyHost + ":" + proxyPort + "/" + name;
  }

  String host() {
    return host;
  }

  int port() {
    return port;
  }

  /** A JDBC connection to this database, straight to the server. */
  Connection jdbc() throws SQLException {
    return DriverManager.getConnection("jdbc:postgresql://" + host + ":" + port + "/" + name, user, password);
  }

  /** Drops the database, ending any connection still open to it. */
  @Override
  public void close() throws SQLException {
    try (Connection c = TestServices.jdbc(); Statement s = c.createStatement()) {
      s.execute("DROP DATABASE IF EXISTS \"" + name + "\" WITH (FORCE)");
    }
  }
}
