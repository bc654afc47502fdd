package io.webhookd.store.sqlite;

import io.vertx.core.Future;
import io.webhookd.store.SqlRow;
import io.webhookd.store.Tx;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A {@link Tx} over the writer thread's connection. Its futures are complete when returned: the
 * work runs synchronously on the writer thread, inside the writer's transaction.
 */
final class JdbcTx implements Tx {

  private final SqliteWriter.Session session;

  JdbcTx(SqliteWriter.Session session) {
    this.session = session;
  }

  @Override
  public Future<List<SqlRow>> query(String sql, Object... params) {
    try {
      PreparedStatement statement = bind(sql, params);
      List<SqlRow> rows = new ArrayList<>();
      try (ResultSet rs = statement.executeQuery()) {
        String[] labels = null;
        while (rs.next()) {
          if (labels == null) {
            labels = labels(rs.getMetaData());
          }
          Map<String, Object> columns = new HashMap<>();
          for (int i = 0; i < labels.length; i++) {
            columns.put(labels[i], rs.getObject(i + 1));
          }
          rows.add(new SqlRow(columns));
        }
      }
      return Future.succeededFuture(rows);
    } catch (SQLException e) {
      return Future.failedFuture(e);
    }
  }

  @Override
  public Future<Integer> update(String sql, Object... params) {
    try {
      return Future.succeededFuture(bind(sql, params).executeUpdate());
    } catch (SQLException e) {
      return Future.failedFuture(e);
    }
  }

  /** Read once per result, not per row: each label is a call into SQLite. */
  private static String[] labels(ResultSetMetaData meta) throws SQLException {
    String[] labels = new String[meta.getColumnCount()];
    for (int i = 0; i < labels.length; i++) {
      labels[i] = meta.getColumnLabel(i + 1).toLowerCase(Locale.ROOT);
    }
    return labels;
  }

  private PreparedStatement bind(String sql, Object... params) throws SQLException {
    PreparedStatement statement = session.prepare(sql);
    for (int i = 0; i < params.length; i++) {
      statement.setObject(i + 1, params[i]);
    }
    return statement;
  }
}
