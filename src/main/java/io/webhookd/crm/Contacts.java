package io.webhookd.crm;

import io.vertx.core.Future;
import io.webhookd.store.SqlRow;
import io.webhookd.store.Tx;
import java.util.List;

/**
 * Contacts and their numbers. A contact is found or created by phone number; contact events from
 * OpenPhone keep its OpenPhone id, names and numbers in step, the newest event winning.
 */
public final class Contacts {

  private Contacts() {
  }

  /**
   * The id of the contact owning the number bound to its placeholder, or null: for a record's
   * statement that names the record's contact by number itself (in its values and its RETURNING),
   * one statement where a lookup and a write would be two. {@link #ownerOrNew} completes it.
   */
  static final String OWNER_OF = "(SELECT contact_id FROM contact_phones WHERE phone = ?)";

  /** The id of the contact owning {@code phone} (E.164), created when none does. */
  public static Future<Long> findOrCreate(Tx tx, String phone, long now) {
    return byPhone(tx, phone).compose(found -> found != null ? Future.succeededFuture(found) : create(tx, phone, now));
  }

  /**
   * The contact of the record of {@code table} just written with {@link #OWNER_OF} (the
   * {@code contact_id} its statement returned, in {@code written}): the owner it found; for a
   * number no contact owned, a new contact, which the record is then given.
   */
  static Future<Long> ownerOrNew(Tx tx, String table, String providerId, String phone, List<SqlRow> written,
      long now) {
    Long owner = written.get(0).longValue("contact_id");
    if (owner != null || phone == null) {
      return Future.succeededFuture(owner);
    }
    return create(tx, phone, now).compose(created -> tx.update(
            "UPDATE " + table + " SET contact_id = ? WHERE provider_id = ? AND contact_id IS NULL", created, providerId)
        .map(created));
  }

  /** A contact for {@code phone}, which none owned a moment ago. */
  private static Future<Long> create(Tx tx, String phone, long now) {
    return tx.query("INSERT INTO contacts (created_at, updated_at) VALUES (?, ?) RETURNING id", now, now)
        .map(rows -> rows.get(0).longValue("id"))
        .compose(created -> tx.update("""
                INSERT INTO contact_phones (phone, contact_id, updated_at) VALUES (?, ?, ?)
                ON CONFLICT (phone) DO NOTHING""", phone, created, now)
            .compose(inserted -> inserted == 1 ? Future.succeededFuture(created)
                // Another transaction gave the number a contact first: use that one.
                : tx.update("DELETE FROM contacts WHERE id = ?", created).compose(v -> byPhone(tx, phone))));
  }

  public static Future<Long> byPhone(Tx tx, String phone) {
    return tx.query("SELECT contact_id FROM contact_phones WHERE phone = ?", phone)
        .map(rows -> rows.isEmpty() ? null : rows.get(0).longValue("contact_id"));
  }

  /**
   * Applies a {@code contact.updated}: names and numbers, unless a newer contact event was applied
   * already. Numbers move to this contact (with their consent state, which belongs to the number).
   */
  public static Future<Long> applyUpdate(Tx tx, String openphoneId, String firstName, String lastName,
      String company, List<String> phones, long sourceUpdatedAt, long now) {
    return adopt(tx, openphoneId, phones).compose(v -> tx.query("""
            INSERT INTO contacts (openphone_id, first_name, last_name, company, source_updated_at, created_at, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (openphone_id) DO UPDATE
              SET first_name = excluded.first_name, last_name = excluded.last_name, company = excluded.company,
                  source_updated_at = excluded.source_updated_at, deleted_at = NULL, updated_at = excluded.updated_at
              WHERE contacts.source_updated_at IS NULL OR contacts.source_updated_at <= excluded.source_updated_at
            RETURNING id""", openphoneId, firstName, lastName, company, sourceUpdatedAt, now, now))
        .compose(rows -> rows.isEmpty() ? Future.succeededFuture(null) // an older event: nothing to do
            : attachPhones(tx, rows.get(0).longValue("id"), phones, now));
  }

  /**
   * A number that texted before OpenPhone named its contact already has a contact of ours, holding
   * its history: the first time OpenPhone names it, that contact takes the OpenPhone id rather than
   * a second contact being made.
   */
  private static Future<Void> adopt(Tx tx, String openphoneId, List<String> phones) {
    return tx.query("SELECT id FROM contacts WHERE openphone_id = ?", openphoneId)
        .compose(rows -> rows.isEmpty() ? adoptByPhone(tx, openphoneId, phones, 0) : Future.succeededFuture());
  }

  private static Future<Void> adoptByPhone(Tx tx, String openphoneId, List<String> phones, int index) {
    if (index == phones.size()) {
      return Future.succeededFuture();
    }
    return tx.update("""
            UPDATE contacts SET openphone_id = ?
            WHERE openphone_id IS NULL AND id = (SELECT contact_id FROM contact_phones WHERE phone = ?)""",
            openphoneId, phones.get(index))
        .compose(adopted -> adopted == 1 ? Future.succeededFuture() : adoptByPhone(tx, openphoneId, phones, index + 1));
  }

  private static Future<Long> attachPhones(Tx tx, long contactId, List<String> phones, long now) {
    Future<Void> chain = Future.succeededFuture();
    for (String phone : phones) {
      chain = chain.compose(v -> tx.update("""
          INSERT INTO contact_phones (phone, contact_id, updated_at) VALUES (?, ?, ?)
          ON CONFLICT (phone) DO UPDATE SET contact_id = excluded.contact_id, updated_at = excluded.updated_at""",
          phone, contactId, now).mapEmpty());
    }
    return chain.map(contactId);
  }

  /** Soft delete: the contact is marked deleted, its history stays. Older events change nothing. */
  public static Future<Void> applyDelete(Tx tx, String openphoneId, long sourceUpdatedAt, long now) {
    return tx.update("""
        INSERT INTO contacts (openphone_id, source_updated_at, deleted_at, created_at, updated_at)
        VALUES (?, ?, ?, ?, ?)
        ON CONFLICT (openphone_id) DO UPDATE
          SET deleted_at = excluded.deleted_at, source_updated_at = excluded.source_updated_at,
              updated_at = excluded.updated_at
          WHERE contacts.source_updated_at IS NULL OR contacts.source_updated_at <= excluded.source_updated_at""",
        openphoneId, sourceUpdatedAt, now, now, now).mapEmpty();
  }

  public static Future<Void> tag(Tx tx, long contactId, String tag, long now) {
    return tx.update("""
        INSERT INTO contact_tags (contact_id, tag, created_at) VALUES (?, ?, ?)
        ON CONFLICT (contact_id, tag) DO NOTHING""", contactId, tag, now).mapEmpty();
  }

  public static Future<List<String>> tags(Tx tx, long contactId) {
    return tx.query("SELECT tag FROM contact_tags WHERE contact_id = ? ORDER BY tag", contactId)
        .map(rows -> rows.stream().map(row -> row.string("tag")).toList());
  }

  /** Whether the number has opted out; the send path asks this before every text. */
  public static Future<Boolean> optedOut(Tx tx, String phone) {
    return tx.query("SELECT opted_out FROM contact_phones WHERE phone = ?", phone)
        .map(rows -> !rows.isEmpty() && rows.get(0).intValue("opted_out") == 1);
  }
}
