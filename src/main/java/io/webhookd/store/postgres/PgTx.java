package io.webhookd.store.postgres;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.ContextInternal;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import io.webhookd.store.SqlRow;
import io.webhookd.store.Tx;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A {@link Tx} on one connection inside a transaction, answering on the context of whoever uses it;
 * it remembers whether any statement failed, and refuses statements once the transaction has ended
 * (sent after the COMMIT or ROLLBACK, a statement would run on its own).
 */
final class PgTx implements Tx {

  private static final Map<String, String> NUMBERED = new ConcurrentHashMap<>();

  private final SqlConnection connection;
  private final ContextInternal answerOn;
  private volatile boolean statementFailed;
  private volatile boolean ended;

  /** @param answerOn where statements' results are delivered (a connection answers on its own context) */
  PgTx(SqlConnection connection, Context answerOn) {
    this.connection = connection;
    this.answerOn = (ContextInternal) answerOn;
  }

  /** Whether PostgreSQL refused a statement, which aborts the transaction even if the work went on. */
  boolean anyStatementFailed() {
    return statementFailed;
  }

  /** From now on every statement fails without being sent. */
  void end() {
    ended = true;
  }

  @Override
  public Future<List<SqlRow>> query(String sql, Object... params) {
    return execute(sql, params).map(rows -> {
      List<SqlRow> result = new ArrayList<>(rows.rowCount());
      for (Row row : rows) {
        Map<String, Object> columns = new HashMap<>();
        for (int i = 0; i < row.size(); i++) {
          columns.put(row.getColumnName(i).toLowerCase(Locale.ROOT), row.getValue(i));
        }
        result.add(new SqlRow(columns));
      }
      return result;
    });
  }

  @Override
  public Future<Integer> update(String sql, Object... params) {
    return execute(sql, params).map(rows -> rows.rowCount());
  }

  private Future<RowSet<Row>> execute(String sql, Object... params) {
    if (ended) {
      return answerOn.failedFuture(new IllegalStateException("the transaction has ended"));
    }
    Promise<RowSet<Row>> answer = answerOn.promise();
    connection.preparedQuery(numbered(sql)).execute(tuple(params)).onComplete(ar -> {
      if (ar.succeeded()) {
        answer.complete(ar.result());
      } else {
        statementFailed = true;
        answer.fail(ar.cause());
      }
    });
    return answer.future();
  }

  private static Tuple tuple(Object... params) {
    Tuple tuple = Tuple.tuple();
    for (Object param : params) {
      tuple.addValue(param instanceof byte[] bytes ? Buffer.buffer(bytes) : param);
    }
    return tuple;
  }

  /** {@code ?} placeholders become {@code $1, $2, ...}; quoted text is left alone. */
  static String numbered(String sql) {
    return NUMBERED.computeIfAbsent(sql, PgTx::translate);
  }

  private static String translate(String sql) {
    StringBuilder out = new StringBuilder(sql.length() + 16);
    int n = 0;
    boolean quoted = false;
    for (int i = 0; i < sql.length(); i++) {
      char c = sql.charAt(i);
      if (c == '\'') {
        quoted = !quoted;
      }
      if (c == '?' && !quoted) {
        out.append('$').append(++n);
      } else {
        out.append(c);
      }
    }
    return out.toString();
  }
}
