package io.webhookd.store.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Statements longer than the client's cache limit are parsed by PostgreSQL on every execution. */
class PgStatementCacheTest {

  @Test
  void everyStatementOfTheAdapterIsShortEnoughToBeKeptPrepared() throws Exception {
    List<String> statements = new ArrayList<>();
    for (Class<?> type : List.of(PgAppends.class, PgInboxStore.class)) {
      for (Field field : type.getDeclaredFields()) {
        if (field.getType() == String.class && Modifier.isStatic(field.getModifiers())
            && Modifier.isFinal(field.getModifiers())) {
          field.setAccessible(true);
          statements.add((String) field.get(null));
        }
      }
    }

    assertThat(statements).hasSizeGreaterThan(5)
        .anySatisfy(sql -> assertThat(sql.length()).as("the append's statement").isGreaterThan(2_048))
        .allSatisfy(sql -> assertThat(sql.length()).isLessThanOrEqualTo(PgInboxStore.STATEMENT_CACHE_SQL_LIMIT));
  }
}
