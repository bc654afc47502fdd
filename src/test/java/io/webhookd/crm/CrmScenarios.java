package io.webhookd.crm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.webhookd.cli.WebhookdCommand;
import io.webhookd.store.SqlRow;
import io.webhookd.store.Tx;
import io.webhookd.testing.Fixtures;
import java.io.PrintWriter;
import java.io.StringReader;
import java.io.StringWriter;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import picocli.CommandLine;

/**
 * The CRM end to end, on one store (a subclass per store): real signed webhooks into the service
 * running in this JVM, texts out to a fake OpenPhone API on a local port, and what the service
 * stored read back from the store.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
abstract class CrmScenarios extends CrmHarness {

  /** The sender of the STOP fixture. */
  static final String CUSTOMER = "+18005550100";
  static final String OTHER = "+18005550199";
  static final String STOP_EVENT = "EV0f3c9a1b2d4e4f5a8b7c6d5e4f3a2b1c";

  // ---- 1. STOP ----------------------------------------------------------------------------------

  @Test
  void stopOptsOutCancelsQueuedTextRecordsComplianceAndConfirmsOnceDespiteRedeliveriesAndA503() throws Exception {
    startService();
    long before = System.currentTimeMillis();
    long scheduled = queueCampaignText("spring-sale", "Spring sale: 20% off this week", CUSTOMER,
        Duration.ofHours(1));
    api.failNext(1);
    JsonObject stop = Fixtures.json(Fixtures.V2026_MESSAGE_RECEIVED);

    JsonObject first = send(stop);
    JsonObject second = send(stop);
    JsonObject third = send(stop);

    assertThat(first.getString("status")).as("first delivery: %s", first).isEqualTo("processed");
    assertThat(first.getString("event_id")).isEqualTo(STOP_EVENT);
    assertThat(first.getJsonObject("result").getBoolean("opted_out")).as("result %s", first).isTrue();
    assertThat(second.getString("status")).isEqualTo("duplicate_ignored");
    assertThat(third.getString("status")).isEqualTo("duplicate_ignored");

    assertThat(optedOut(CUSTOMER)).isTrue();
    List<Map<String, Object>> records = rows(
        "SELECT phone, action, keyword, source_event_id, at, contact_id FROM compliance_records ORDER BY id");
    assertThat(records).hasSize(1);
    Map<String, Object> record = records.get(0);
    assertThat(record.get("phone")).isEqualTo(CUSTOMER);
    assertThat(record.get("action")).isEqualTo("opt_out");
    assertThat(record.get("keyword")).isEqualTo("STOP");
    assertThat((String) record.get("source_event_id")).endsWith(STOP_EVENT);
    assertThat(number(record.get("at"))).isBetween(before, System.currentTimeMillis());
    assertThat(record.get("contact_id")).isNotNull();

    assertThat(one("SELECT state FROM outbound_messages WHERE id = ?", scheduled).get("state"))
        .as("the campaign text queued before the STOP").isEqualTo("cancelled");

    List<Map<String, Object>> confirmations = awaitOutbound("opt_out_confirmation", CUSTOMER, "sent");
    assertThat(confirmations).hasSize(1);
    assertThat(number(confirmations.get(0).get("attempts"))).as("one 503, then the retry").isEqualTo(2);
    String confirmation = settings().crm().optOutConfirmation();
    List<FakeOpenPhone.Request> calls = api.textsTo(CUSTOMER);
    assertThat(calls).extracting(FakeOpenPhone.Request::status).containsExactly(503, 200);
    assertThat(calls).extracting(FakeOpenPhone.Request::content).containsOnly(confirmation);
    assertThat(calls).extracting(FakeOpenPhone.Request::authorization).containsOnly(API_KEY);
    assertThat(calls.get(1).json().getString("from")).isEqualTo(CrmBodies.LINE);
    assertThat(api.contentsDeliveredTo(CUSTOMER)).containsExactly(confirmation);
  }

  @Test
  void theSameStopDeliveredThreeTimesAtOnceOptsOutAndConfirmsOnce() throws Exception {
    startService();
    JsonObject stop = Fixtures.json(Fixtures.V2026_MESSAGE_RECEIVED);

    List<CompletableFuture<HttpResponse<String>>> inFlight = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      inFlight.add(sendRaw(stop));
    }
    List<String> statuses = new ArrayList<>();
    for (CompletableFuture<HttpResponse<String>> response : inFlight) {
      HttpResponse<String> r = response.get(20, TimeUnit.SECONDS);
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      statuses.add(new JsonObject(r.body()).getString("status"));
    }

    assertThat(statuses).containsExactlyInAnyOrder("processed", "duplicate_ignored", "duplicate_ignored");
    awaitProcessed(STOP_EVENT);
    assertThat(optedOut(CUSTOMER)).isTrue();
    assertThat(count("SELECT COUNT(*) AS n FROM compliance_records WHERE phone = ? AND action = 'opt_out'", CUSTOMER))
        .isEqualTo(1);
    assertThat(awaitOutbound("opt_out_confirmation", CUSTOMER, "sent")).hasSize(1);
    assertThat(api.contentsDeliveredTo(CUSTOMER)).containsExactly(settings().crm().optOutConfirmation());
  }

  // ---- 2. nothing but the confirmation reaches a number that opted out ----------------------------

  @Test
  void aNumberThatOptedOutGetsNoCampaignTextQueuedBeforeOrAfter() throws Exception {
    startService();
    long queuedBefore = queueCampaignText("spring-sale", "Spring sale: 20% off this week", CUSTOMER,
        Duration.ofHours(1));

    JsonObject answer = send(Fixtures.json(Fixtures.V2026_MESSAGE_RECEIVED));
    assertThat(answer.getString("status")).isEqualTo("processed");
    awaitOutbound("opt_out_confirmation", CUSTOMER, "sent");

    // A campaign loaded after the opt-out: its text is queued for both numbers, due at once.
    CampaignLoader.Outcome outcome = new CampaignLoader(store(), new PhoneNumbers("US"))
        .load("summer-sale", "Summer sale starts today", null, Duration.ofHours(72).toMillis(), CrmBodies.LINE,
            new StringReader("name,phone\nCustomer,(800) 555-0100\nOther,800-555-0199\n"))
        .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertThat(outcome.added()).isEqualTo(2);

    awaitOutbound("campaign", OTHER, "sent");
    List<Map<String, Object>> toCustomer = await("the campaign texts to the customer to be finished",
        () -> outbound("campaign", CUSTOMER),
        list -> list.size() == 2 && list.stream().noneMatch(r -> "queued".equals(r.get("state"))
            || "sending".equals(r.get("state"))));
    assertThat(toCustomer).filteredOn(r -> number(r.get("id")) == queuedBefore)
        .extracting(r -> r.get("state")).containsExactly("cancelled");
    assertThat(toCustomer).filteredOn(r -> number(r.get("id")) != queuedBefore)
        .extracting(r -> r.get("state"), r -> r.get("last_error"))
        .containsExactly(tuple("blocked", "recipient opted out"));

    assertThat(api.contentsDeliveredTo(OTHER)).containsExactly("Summer sale starts today");
    assertThat(api.textsTo(CUSTOMER)).extracting(FakeOpenPhone.Request::content)
        .containsExactly(settings().crm().optOutConfirmation());
  }

  // ---- 3. START and HELP ------------------------------------------------------------------------

  @Test
  void startAfterStopOptsBackInAndTextsFlowAgain() throws Exception {
    startService();
    sendAndAwait(Fixtures.json(Fixtures.V2026_MESSAGE_RECEIVED));
    assertThat(optedOut(CUSTOMER)).isTrue();

    JsonObject start = CrmBodies.inboundText("EVstart0000000000000000000000001", "ACstart0000000000000000000000001",
        CUSTOMER, "  start ", Instant.now());
    JsonObject answer = send(start);

    assertThat(answer.getString("status")).isEqualTo("processed");
    assertThat(answer.getJsonObject("result").getBoolean("opted_in")).as("result %s", answer).isTrue();
    assertThat(optedOut(CUSTOMER)).isFalse();
    assertThat(rows("SELECT action, keyword, source_event_id FROM compliance_records WHERE phone = ? ORDER BY id",
        CUSTOMER))
        .extracting(r -> r.get("action"), r -> r.get("keyword"))
        .containsExactly(tuple("opt_out", "STOP"),
            tuple("opt_in", "START"));
    assertThat((String) one("SELECT source_event_id FROM compliance_records WHERE action = 'opt_in'")
        .get("source_event_id")).endsWith(start.getString("id"));
    awaitOutbound("opt_in_confirmation", CUSTOMER, "sent");

    long campaignText = queueCampaignText("welcome-back", "Welcome back!", CUSTOMER, Duration.ZERO);
    await("the campaign text after START to be sent",
        () -> one("SELECT state FROM outbound_messages WHERE id = ?", campaignText).get("state"),
        "sent"::equals);
    assertThat(api.contentsDeliveredTo(CUSTOMER)).containsExactly(settings().crm().optOutConfirmation(),
        settings().crm().optInConfirmation(), "Welcome back!");
  }

  @Test
  void helpQueuesAndSendsTheHelpTextOnce() throws Exception {
    startService();
    JsonObject help = CrmBodies.inboundText("EVhelp0000000000000000000000001", "AChelp0000000000000000000000001",
        CUSTOMER, "Help", Instant.now());

    JsonObject answer = send(help);
    assertThat(send(help).getString("status")).isEqualTo("duplicate_ignored");

    assertThat(answer.getString("status")).isEqualTo("processed");
    assertThat(answer.getJsonObject("result").getBoolean("help_sent")).as("result %s", answer).isTrue();
    assertThat(awaitOutbound("help", CUSTOMER, "sent")).hasSize(1);
    assertThat(api.contentsDeliveredTo(CUSTOMER)).containsExactly(settings().crm().helpText());
    assertThat(optedOut(CUSTOMER)).isFalse();
    assertThat(count("SELECT COUNT(*) AS n FROM compliance_records")).isZero();
  }

  // ---- 4. calls in any order --------------------------------------------------------------------

  @Test
  void callEventsInAnyOrderMergeIntoOneCallWithEveryAttachment() throws Exception {
    startService();
    List<String> natural = List.of("ringing", "completed", "recording", "summary", "transcript");
    List<List<String>> orders = new ArrayList<>(List.of(
        natural,
        List.of("transcript", "summary", "recording", "completed", "ringing"),
        List.of("summary", "completed", "ringing", "transcript", "recording"),
        List.of("recording", "ringing", "transcript", "completed", "summary")));
    List<String> shuffled = new ArrayList<>(natural);
    Collections.shuffle(shuffled, new Random(20260413));
    orders.add(shuffled);

    Instant t0 = Instant.parse("2022-01-24T19:21:59.601Z");
    SoftAssertions softly = new SoftAssertions();
    for (int i = 0; i < orders.size(); i++) {
      String callId = String.format("ACperm%02d000000000000000000000000", i);
      String conversation = String.format("CNperm%02d", i);
      for (String kind : orders.get(i)) {
        String eventId = String.format("EVperm%02d-%s", i, kind);
        JsonObject body = switch (kind) {
          case "ringing" -> CrmBodies.callEvent(Fixtures.LEGACY_V3_CALL_RINGING, eventId, callId, conversation, t0);
          case "completed" -> CrmBodies.callEvent(Fixtures.LEGACY_V3_CALL_COMPLETED, eventId, callId, conversation,
              t0.plusSeconds(25));
          case "recording" -> CrmBodies.callEvent(Fixtures.LEGACY_V3_CALL_RECORDING_COMPLETED, eventId, callId,
              conversation, t0.plusSeconds(62));
          case "summary" -> CrmBodies.callSummary(eventId, callId, t0.plusSeconds(120));
          case "transcript" -> CrmBodies.callTranscript(eventId, callId, t0.plusSeconds(90));
          default -> throw new IllegalArgumentException(kind);
        };
        sendAndAwait(body);
      }

      String order = "order " + String.join(", ", orders.get(i));
      List<Map<String, Object>> calls = rows("SELECT * FROM calls WHERE provider_id = ?", callId);
      assertThat(calls).as("call rows for %s", order).hasSize(1);
      Map<String, Object> call = calls.get(0);
      softly.assertThat(call.get("status")).as(order + ": status").isEqualTo("completed");
      softly.assertThat(call.get("direction")).as(order + ": direction").isEqualTo("incoming");
      softly.assertThat(call.get("from_number")).as(order + ": from").isEqualTo(CUSTOMER);
      softly.assertThat(call.get("to_number")).as(order + ": to").isEqualTo(CrmBodies.LINE_NUMBER);
      softly.assertThat(call.get("contact_id")).as(order + ": contact").isNotNull();
      softly.assertThat(call.get("recording_url")).as(order + ": recording")
          .isEqualTo("https://m.openph.one/static/15ad4740be6048e4a80efb268d347482.mp3");
      softly.assertThat(number(call.get("recording_duration"))).as(order + ": recording duration").isEqualTo(7);
      softly.assertThat(call.get("voicemail_url")).as(order + ": voicemail")
          .isEqualTo("https://m.openph.one/static/15ad4740be6048e4a80efb268d347482.mp3");
      softly.assertThat(number(call.get("voicemail_duration"))).as(order + ": voicemail duration").isEqualTo(7);
      softly.assertThat(number(call.get("started_at"))).as(order + ": started_at (the call's createdAt)")
          .isEqualTo(Instant.parse("2022-01-24T19:21:59.545Z").toEpochMilli());
      softly.assertThat(number(call.get("answered_at"))).as(order + ": answered_at (from the recording event)")
          .isEqualTo(Instant.parse("2022-01-24T19:22:02.000Z").toEpochMilli());
      softly.assertThat(number(call.get("completed_at"))).as(order + ": completed_at")
          .isEqualTo(Instant.parse("2022-01-24T19:22:19.000Z").toEpochMilli());
      softly.assertThat((String) call.get("summary")).as(order + ": summary")
          .contains("quote for two rooms").contains("Email the quote by Friday.");
      softly.assertThat((String) call.get("transcript")).as(order + ": transcript")
          .contains("I would like a quote").contains("for how many rooms");
    }
    softly.assertAll();
    assertThat(count("SELECT COUNT(*) AS n FROM calls")).isEqualTo(orders.size());
    assertThat(count("SELECT COUNT(DISTINCT contact_id) AS n FROM calls")).as("one caller, one contact").isEqualTo(1);
  }

  // ---- 5. message status only moves up ----------------------------------------------------------

  @Test
  void aLateSentDoesNotUndoDeliveredAndAFailureKeepsItsErrorCode() throws Exception {
    startService();
    Instant t = Instant.now().minusSeconds(60);
    String delivered = "ACmono0000000000000000000000000001";
    sendAndAwait(CrmBodies.outgoingStatus("EVmono-1-delivered", "message.delivered", delivered, "delivered",
        t.plusSeconds(2)));
    sendAndAwait(CrmBodies.outgoingStatus("EVmono-1-sent", "message.sent", delivered, "sent", t));

    String failed = "ACmono0000000000000000000000000002";
    JsonObject failure = CrmBodies.outgoingStatus("EVmono-2-failed", "message.failed", failed, "failed",
        t.plusSeconds(3));
    failure.getJsonObject("data").getJsonObject("object").put("errorCode", "30007");
    sendAndAwait(CrmBodies.outgoingStatus("EVmono-2-sent", "message.sent", failed, "sent", t));
    sendAndAwait(failure);
    sendAndAwait(CrmBodies.outgoingStatus("EVmono-2-delivered", "message.delivered", failed, "delivered",
        t.plusSeconds(2)));

    Map<String, Object> first = one("SELECT status, error_code, direction, to_numbers FROM messages WHERE provider_id = ?",
        delivered);
    assertThat(first.get("status")).isEqualTo("delivered");
    assertThat(first.get("error_code")).isNull();
    assertThat(first.get("direction")).isEqualTo("outgoing");
    assertThat(first.get("to_numbers")).isEqualTo(CUSTOMER);
    Map<String, Object> second = one("SELECT status, error_code FROM messages WHERE provider_id = ?", failed);
    assertThat(second.get("status")).isEqualTo("failed");
    assertThat(second.get("error_code")).isEqualTo("30007");
    assertThat(count("SELECT COUNT(*) AS n FROM messages")).isEqualTo(2);
  }

  @Test
  void aFailureWithANumericErrorCodeKeepsItsCode() throws Exception {
    startService();
    String failed = "ACmono0000000000000000000000000003";
    JsonObject failure = CrmBodies.outgoingStatus("EVmono-3-failed", "message.failed", failed, "failed", Instant.now());
    failure.getJsonObject("data").getJsonObject("object").put("errorCode", 30003);
    sendAndAwait(failure);

    Map<String, Object> row = one("SELECT status, error_code FROM messages WHERE provider_id = ?", failed);
    assertThat(row.get("status")).isEqualTo("failed");
    assertThat(row.get("error_code")).as("errorCode sent as a JSON number").isEqualTo("30003");
  }

  /**
   * A message event without a message id: read where it arrives, it fails in the commit that stores
   * it, and is dead-lettered as invalid there, with nothing of it in the CRM.
   */
  @Test
  void aMessageWithoutAnIdIsDeadLetteredOnArrivalWithNoEffects() throws Exception {
    startService();
    JsonObject body = CrmBodies.inboundText("EVnoid-1", "ACnoid000000000000000000000000001", OTHER, "hello",
        Instant.now());
    body.getJsonObject("data").getJsonObject("resource").remove("id");
    send(body);

    Map<String, Object> row = await("the event to be dead-lettered",
        () -> one("SELECT status, attempts, last_error FROM inbox_events WHERE event_id = ?", "EVnoid-1"),
        r -> r != null && "dead".equals(r.get("status")));
    assertThat(number(row.get("attempts"))).isEqualTo(1L);
    assertThat((String) row.get("last_error")).contains("without a message id");
    assertThat(count("SELECT COUNT(*) AS n FROM messages")).isZero();
    assertThat(count("SELECT COUNT(*) AS n FROM contact_phones WHERE phone = ?", OTHER)).isZero();
  }

  // ---- 6. contacts ------------------------------------------------------------------------------

  static final String CONTACT = "CT64260c5cd1c90ca558ff6edb";

  @Test
  void contactUpdatedCreatesTheContactWithItsIdNamesAndE164Numbers() throws Exception {
    startService();
    sendAndAwait(CrmBodies.contactUpdated("EVcontact-1", CONTACT, "Jayson", "Reyes",
        new JsonArray().add("(256) 658-1234").add("256.658.9999"), Instant.parse("2023-03-30T22:32:12.319Z")));

    Map<String, Object> contact = one(
        "SELECT id, openphone_id, first_name, last_name, deleted_at FROM contacts WHERE openphone_id = ?", CONTACT);
    assertThat(contact).isNotNull();
    assertThat(contact.get("first_name")).isEqualTo("Jayson");
    assertThat(contact.get("last_name")).isEqualTo("Reyes");
    assertThat(contact.get("deleted_at")).isNull();
    assertThat(rows("SELECT phone FROM contact_phones WHERE contact_id = ? ORDER BY phone", contact.get("id")))
        .extracting(r -> r.get("phone")).containsExactly("+12566581234", "+12566589999");
  }

  @Test
  void anOlderContactUpdateArrivingLaterDoesNotOverwriteNames() throws Exception {
    startService();
    Instant newer = Instant.parse("2023-03-30T22:40:00.000Z");
    sendAndAwait(CrmBodies.contactUpdated("EVcontact-new", CONTACT, "Jayson", "Reyes",
        new JsonArray().add("+12566581234"), newer));
    sendAndAwait(CrmBodies.contactUpdated("EVcontact-old", CONTACT, "Jay", "Old",
        new JsonArray().add("+12566581234"), newer.minusSeconds(600)));

    List<Map<String, Object>> contacts = rows("SELECT first_name, last_name, source_updated_at FROM contacts");
    assertThat(contacts).hasSize(1);
    assertThat(contacts.get(0).get("first_name")).isEqualTo("Jayson");
    assertThat(contacts.get(0).get("last_name")).isEqualTo("Reyes");
    assertThat(number(contacts.get(0).get("source_updated_at"))).isEqualTo(newer.toEpochMilli());
  }

  @Test
  void aNumberHasOneContactAcrossItsTextsStatusUpdatesAndCalls() throws Exception {
    startService();
    Instant t = Instant.now().minusSeconds(120);
    // The first event of a number no contact owns makes its contact; the others find it.
    sendAndAwait(CrmBodies.inboundText("EVone-1", "ACone00000000000000000000000000001", CUSTOMER, "Hello?", t));
    sendAndAwait(CrmBodies.outgoingStatus("EVone-2", "message.delivered", "ACone00000000000000000000000000002",
        "delivered", t.plusSeconds(10)));
    sendAndAwait(CrmBodies.callEvent(Fixtures.LEGACY_V3_CALL_RINGING, "EVone-3", "ACone00000000000000000000000000003",
        "CNone", t.plusSeconds(20)));
    sendAndAwait(CrmBodies.inboundText("EVone-4", "ACone00000000000000000000000000004", CUSTOMER, "Still there?",
        t.plusSeconds(30)));

    assertThat(rows("SELECT id FROM contacts")).as("one contact").hasSize(1);
    Object contactId = one("SELECT contact_id FROM contact_phones WHERE phone = ?", CUSTOMER).get("contact_id");
    assertThat(rows("SELECT provider_id, contact_id FROM messages ORDER BY provider_id"))
        .extracting(r -> r.get("provider_id"), r -> number(r.get("contact_id")))
        .containsExactly(tuple("ACone00000000000000000000000000001", number(contactId)),
            tuple("ACone00000000000000000000000000002", number(contactId)),
            tuple("ACone00000000000000000000000000004", number(contactId)));
    assertThat(number(one("SELECT contact_id FROM calls WHERE provider_id = ?", "ACone00000000000000000000000000003")
        .get("contact_id"))).isEqualTo(number(contactId));
  }

  @Test
  void aMessageOrCallOfAKnownNumberIsWrittenInOneStatementWithItsContact() throws Exception {
    startService();
    sendAndAwait(CrmBodies.inboundText("EVknown-1", "ACknown000000000000000000000000001", CUSTOMER, "Hi",
        Instant.now().minusSeconds(60)));
    long known = number(one("SELECT contact_id FROM contact_phones WHERE phone = ?", CUSTOMER).get("contact_id"));
    long now = System.currentTimeMillis();

    List<String> statements = new ArrayList<>();
    Long messageContact = inTransaction(tx -> Messages.upsert(recording(tx, statements),
        new Messages.Facts("ACknown000000000000000000000000002", "outgoing", CUSTOMER, CrmBodies.LINE_NUMBER,
            CUSTOMER, "On our way", null, "delivered", null, "CNknown", null, null, now), now));
    assertThat(messageContact).isEqualTo(known);
    assertThat(statements).as("a message of a known number").hasSize(1);

    statements.clear();
    Long callContact = inTransaction(tx -> Calls.upsert(recording(tx, statements),
        new Calls.Facts("ACknown000000000000000000000000003", "incoming", CUSTOMER, CUSTOMER, CrmBodies.LINE_NUMBER,
            "ringing", "CNknown", null, null, now, null, null, null, null, null, null, null, null, null), now));
    assertThat(callContact).isEqualTo(known);
    assertThat(statements).as("a call of a known number").hasSize(1);

    // A number no contact owns: its contact is made and given to the message.
    statements.clear();
    Long created = inTransaction(tx -> Messages.upsert(recording(tx, statements),
        new Messages.Facts("ACknown000000000000000000000000004", "incoming", OTHER, OTHER, CrmBodies.LINE_NUMBER,
            "Who is this?", null, "received", null, "CNother", null, null, null), now));
    assertThat(created).isNotNull().isNotEqualTo(known)
        .isEqualTo(number(one("SELECT contact_id FROM contact_phones WHERE phone = ?", OTHER).get("contact_id")));
    assertThat(number(one("SELECT contact_id FROM messages WHERE provider_id = ?", "ACknown000000000000000000000000004")
        .get("contact_id"))).isEqualTo(created);
    assertThat(statements).as("a message of a new number: %s", statements).hasSize(4);
  }

  /** {@code tx}, noting the statements sent through it. */
  private static Tx recording(Tx tx, List<String> statements) {
    return new Tx() {
      @Override
      public Future<List<SqlRow>> query(String sql, Object... params) {
        statements.add(sql);
        return tx.query(sql, params);
      }

      @Override
      public Future<Integer> update(String sql, Object... params) {
        statements.add(sql);
        return tx.update(sql, params);
      }
    };
  }

  @Test
  void contactDeletedSoftDeletesAndKeepsItsMessages() throws Exception {
    startService();
    Instant t = Instant.now().minusSeconds(120);
    sendAndAwait(CrmBodies.contactUpdated("EVcontact-1", CONTACT, "Jayson", "Reyes",
        new JsonArray().add("+12566581234"), t));
    sendAndAwait(CrmBodies.inboundText("EVcontact-msg", "ACcontact0000000000000000000000001", "+12566581234",
        "Is the offer still on?", t.plusSeconds(30)));
    sendAndAwait(CrmBodies.contactDeleted("EVcontact-del", CONTACT, t.plusSeconds(60)));

    Map<String, Object> contact = one("SELECT id, deleted_at, first_name FROM contacts WHERE openphone_id = ?", CONTACT);
    assertThat(contact).as("the contact row stays").isNotNull();
    assertThat(contact.get("deleted_at")).as("soft delete").isNotNull();
    assertThat(contact.get("first_name")).isEqualTo("Jayson");
    assertThat(rows("SELECT body FROM messages WHERE contact_id = ?", contact.get("id")))
        .extracting(r -> r.get("body")).containsExactly("Is the offer still on?");
  }

  @Test
  void contactUpdatedForANumberThatAlreadyTextedNamesTheContactHoldingItsMessages() throws Exception {
    startService();
    Instant t = Instant.now().minusSeconds(120);
    sendAndAwait(CrmBodies.inboundText("EVcontact-msg", "ACcontact0000000000000000000000001", "+12566581234",
        "Hi, this is Jayson", t));
    sendAndAwait(CrmBodies.contactUpdated("EVcontact-1", CONTACT, "Jayson", "Reyes",
        new JsonArray().add("+12566581234"), t.plusSeconds(30)));

    Map<String, Object> contact = one("SELECT id FROM contacts WHERE openphone_id = ?", CONTACT);
    assertThat(contact).isNotNull();
    assertThat(one("SELECT contact_id FROM contact_phones WHERE phone = ?", "+12566581234").get("contact_id"))
        .isEqualTo(contact.get("id"));
    assertThat(rows("SELECT body FROM messages WHERE contact_id = ?", contact.get("id")))
        .as("the messages of +12566581234 belong to the contact OpenPhone now names (contacts: %s, messages: %s)",
            rows("SELECT id, openphone_id, first_name FROM contacts"), rows("SELECT contact_id, body FROM messages"))
        .extracting(r -> r.get("body")).containsExactly("Hi, this is Jayson");
  }

  // ---- 7. campaigns -----------------------------------------------------------------------------

  @Test
  void aCampaignReplyIsRecordedOnceAndItsFollowUpSentOnce() throws Exception {
    startService();
    String alice = "+18005550142";
    String bob = "+18005550143";
    String carol = "+18005550144";
    Path csv = dir.resolve("recipients.csv");
    Files.writeString(csv, "name,phone\nAlice,(800) 555-0142\nBob,800.555.0143\nCarol,+1 800 555 0144\nBad,call me\n");
    Path config = dir.resolve("cli.yaml");
    Files.writeString(config, storeYaml());
    String message = "Spring sale: 20% off this week. Reply YES for details, STOP to opt out";
    String followUp = "Great! Here are the details: https://example.com/spring";

    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cli = WebhookdCommand.commandLine();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    int exit = cli.execute("campaign", "load", "--config", config.toString(), "--name", "spring-sale",
        "--message", message, "--follow-up", followUp, "--window", "1h", "--from", CrmBodies.LINE, csv.toString());
    assertThat(exit).as("stdout: %s, stderr: %s", out, err).isZero();
    assertThat(out.toString()).contains("3 recipients queued");
    assertThat(err.toString()).contains("call me");

    for (String phone : List.of(alice, bob, carol)) {
      awaitOutbound("campaign", phone, "sent");
      assertThat(api.contentsDeliveredTo(phone)).containsExactly(message);
    }
    Map<String, Object> carolRecipient = await("campaign_recipients.sent_at of " + carol,
        () -> one("SELECT sent_at FROM campaign_recipients WHERE phone = ?", carol), r -> r.get("sent_at") != null);

    Instant now = Instant.now();
    sendAndAwait(CrmBodies.inboundText("EVreply-a1", "ACreply-a1", alice, "YES please", now));
    sendAndAwait(CrmBodies.inboundText("EVreply-a2", "ACreply-a2", alice, "YES please", now.plusSeconds(1)));
    JsonObject bobAnswer = sendAndAwait(CrmBodies.inboundText("EVreply-b1", "ACreply-b1", bob, "no thanks", now));
    Instant afterWindow = Instant.ofEpochMilli(number(carolRecipient.get("sent_at")))
        .plus(Duration.ofHours(1)).plusSeconds(60);
    sendAndAwait(CrmBodies.inboundText("EVreply-c1", "ACreply-c1", carol, "Yes!", afterWindow));

    List<Map<String, Object>> responses = rows(
        "SELECT phone, classification, message_provider_id, body FROM campaign_responses ORDER BY phone");
    assertThat(responses).extracting(r -> r.get("phone"), r -> r.get("classification"), r -> r.get("message_provider_id"))
        .containsExactly(
            tuple(alice, "interested", "ACreply-a1"),
            tuple(bob, "not_interested", "ACreply-b1"));
    assertThat(bobAnswer.getJsonObject("result").getString("campaign_response")).isEqualTo("not_interested");

    assertThat(awaitOutbound("follow_up", alice, "sent")).hasSize(1);
    assertThat(count("SELECT COUNT(*) AS n FROM outbound_messages WHERE kind = 'follow_up'")).isEqualTo(1);
    assertThat(api.contentsDeliveredTo(alice)).containsExactly(message, followUp);
    assertThat(api.contentsDeliveredTo(bob)).containsExactly(message);
    assertThat(api.contentsDeliveredTo(carol)).containsExactly(message);
    assertThat(count("SELECT COUNT(*) AS n FROM messages WHERE direction = 'incoming'"))
        .as("every reply is kept as a message").isEqualTo(4);
  }

  // ---- 8. automation ----------------------------------------------------------------------------

  static final String PRICING_RULES = """
      rules:
        - name: pricing-question
          when: {type: message.received, keyword: price}
          then:
            - tag: pricing
            - reply: "Our prices: https://example.com/prices"
            - post: ${FAKE}/hooks/pricing
      """;

  @Test
  void anAutomationRuleFiresOncePerEventThroughRedeliveriesAndAReplay() throws Exception {
    startService(PRICING_RULES);
    JsonObject question = CrmBodies.inboundText("EVprice-1", "ACprice-1", CUSTOMER, "What's the price for two?",
        Instant.now());

    JsonObject answer = send(question);
    assertThat(send(question).getString("status")).isEqualTo("duplicate_ignored");
    assertThat(send(question).getString("status")).isEqualTo("duplicate_ignored");
    assertThat(answer.getJsonObject("result").getJsonArray("automations")).as("answer %s", answer)
        .containsExactly("pricing-question");
    awaitOutbound("automation", CUSTOMER, "sent");
    await("the automation POST to be delivered",
        () -> rows("SELECT state FROM outbound_webhooks"), r -> r.size() == 1 && "delivered".equals(r.get(0).get("state")));

    // Replay: the processed event is put back to pending, as an operator's replay would, and runs again.
    inTransaction(tx -> tx.update("""
        UPDATE inbox_events SET status = 'pending', attempts = 0, due_at = ?, lease_owner = NULL,
          lease_until = NULL, updated_at = ?
        WHERE source = 'openphone' AND event_id = ?""",
        System.currentTimeMillis(), System.currentTimeMillis(), "EVprice-1"));
    await("the replayed event to be processed again",
        () -> count("SELECT COUNT(*) AS n FROM event_audit WHERE event_id = ? AND state = 'processed'", "EVprice-1"),
        n -> n >= 2);
    awaitProcessed("EVprice-1");

    Long contactId = number(one("SELECT contact_id FROM contact_phones WHERE phone = ?", CUSTOMER).get("contact_id"));
    assertThat(rows("SELECT tag FROM contact_tags WHERE contact_id = ?", contactId))
        .extracting(r -> r.get("tag")).containsExactly("pricing");
    assertThat(count("SELECT COUNT(*) AS n FROM automation_firings")).isEqualTo(1);
    assertThat(outbound("automation", CUSTOMER)).hasSize(1);
    assertThat(api.contentsDeliveredTo(CUSTOMER)).containsExactly("Our prices: https://example.com/prices");
    assertThat(rows("SELECT state FROM outbound_webhooks")).extracting(r -> r.get("state")).containsExactly("delivered");
    List<FakeOpenPhone.Request> posts = api.postsTo("/hooks/pricing");
    assertThat(posts).hasSize(1);
    assertThat(posts.get(0).json().getString("id")).isEqualTo("EVprice-1");
    assertThat(posts.get(0).json().getJsonObject("data").getJsonObject("resource").getString("text"))
        .isEqualTo("What's the price for two?");
  }

  @Test
  void anAutomationReplyToANumberThatOptedOutIsBlockedBySendPath() throws Exception {
    startService(PRICING_RULES);
    sendAndAwait(Fixtures.json(Fixtures.V2026_MESSAGE_RECEIVED));
    awaitOutbound("opt_out_confirmation", CUSTOMER, "sent");

    JsonObject answer = send(CrmBodies.inboundText("EVprice-2", "ACprice-2", CUSTOMER, "price?", Instant.now()));
    assertThat(answer.getJsonObject("result").getJsonArray("automations")).as("answer %s", answer)
        .containsExactly("pricing-question");

    List<Map<String, Object>> replies = awaitOutbound("automation", CUSTOMER, "blocked");
    assertThat(replies).hasSize(1);
    assertThat(replies.get(0).get("last_error")).isEqualTo("recipient opted out");
    assertThat(api.contentsDeliveredTo(CUSTOMER)).containsExactly(settings().crm().optOutConfirmation());
    assertThat(api.textsTo(CUSTOMER)).hasSize(1);
  }

  // ---- helpers ----------------------------------------------------------------------------------

  /**
   * Queues a campaign's text to {@code phone} through the store, as {@code campaign load} does, due
   * after {@code delay} (a text scheduled for later is still waiting when the STOP comes).
   * @return the outbound text's id
   */
  long queueCampaignText(String name, String message, String phone, Duration delay) throws Exception {
    long now = System.currentTimeMillis();
    boolean added = inTransaction(tx -> Campaigns.create(tx, name, message, null, Duration.ofHours(72).toMillis(),
            CrmBodies.LINE, now)
        .compose(campaign -> Campaigns.addRecipient(tx, campaign, phone, now + delay.toMillis())));
    assertThat(added).isTrue();
    return number(one("SELECT id FROM outbound_messages WHERE dedup_key LIKE 'campaign:%' AND to_number = ? "
        + "AND body = ?", phone, message).get("id"));
  }
}
