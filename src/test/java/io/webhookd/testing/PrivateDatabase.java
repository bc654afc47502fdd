package io.webhookd.testing;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import java.util.UUID;

/**
 * A database of one test's (or one test class's) own, on the PostgreSQL server of
 * {@link TestServices#postgres()}, so a missing server fails the test under {@code CI=true} and skips
 * it loudly elsewhere, as everywhere else. The shared {@code webhookd_test} database is truncated by
 * other tests ({@link TestServices#truncateAll()}), and on a shared machine they may run at the same
 * time: a truncation in the middle of a test would look like acknowledged events lost. The service
 * under test migrates the empty database itself; {@link #close()} drops it.
 */
public final class PrivateDatabase implements AutoCloseable {

  private final TestServices.Jdbc server;
  private final String name;

  private PrivateDatabase(TestServices.Jdbc server, String name) {
    this.server = server;
    this.name = name;
  }

  /** Creates {@code webhookd_<hint>_<random>}; {@code hint} names the test in the database's name. */
  public static PrivateDatabase create(String hint) throws SQLException {
    TestServices.Jdbc server = TestServices.Jdbc.of(TestServices.postgres());
    String name = "webhookd_" + hint.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9_]", "") + "_"
        + UUID.randomUUID().toString().substring(0, 8);
    try (Connection c = TestServices.jdbc(); Statement s = c.createStatement()) {
      s.execute("CREATE DATABASE \"" + name + "\"");
    }
    return new PrivateDatabase(server, name);
  }

  /** For {@code WEBHOOKD_PG_URL} and {@code pg.url}: straight to the server. */
  public String url() {
    return urlVia(host(), port());
  }

  /** For {@code WEBHOOKD_PG_URL} through a proxy at {@code proxyHost:proxyPort}. */
  public String urlVia(String proxyHost, int proxyPort) {
    String user = server.user();
    String password = server.password();
    String credentials = user == null ? "" : user + (password == null ? "" : ":" + password) + "@";
    return "postgresql://" + credentials + proxyHost + ":" + proxyPort + "/" + name;
  }

  public String host() {
    return server.host();
  }

  public int port() {
    return server.port();
  }

  /** A JDBC connection to this database, straight to the server. */
  public Connection jdbc() throws SQLException {
    return DriverManager.getConnection("jdbc:postgresql://" + host() + ":" + port() + "/" + name, server.user(),
        server.password());
  }

  /** Empties every table but Flyway's, as {@link TestServices#truncateAll()} does for the shared database. */
  public void truncateAll() throws SQLException {
    try (Connection c = jdbc()) {
      TestServices.truncateAll(c);
    }
  }

  /** Drops the database, ending any connection still open to it. */
  @Override
  public void close() throws SQLException {
    try (Connection c = TestServices.jdbc(); Statement s = c.createStatement()) {
      s.execute("DROP DATABASE IF EXISTS \"" + name + "\" WITH (FORCE)");
    }
  }
}
