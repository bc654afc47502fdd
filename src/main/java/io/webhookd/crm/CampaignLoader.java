package io.webhookd.crm;

import io.vertx.core.Future;
import io.webhookd.store.InboxStore;
import java.io.IOException;
import java.io.Reader;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;

/**
 * Loads a campaign's recipients from CSV (a header row with a {@code phone} column; other columns
 * are ignored) and queues the campaign text to each, once: loading the same file again adds only
 * the recipients that are new.
 */
public final class CampaignLoader {

  /** What a load did. {@code rejected} lists the lines whose number could not be read. */
  public record Outcome(Campaigns.Campaign campaign, int added, int alreadyPresent, List<String> rejected) {
  }

  private final InboxStore store;
  private final PhoneNumbers phones;

  public CampaignLoader(InboxStore store, PhoneNumbers phones) {
    this.store = store;
    this.phones = phones;
  }

  /** Reads the numbers first (so a bad file changes nothing), then writes in one transaction. */
  public Future<Outcome> load(String name, String message, String followUp, long responseWindowMillis,
      String fromLine, Reader csv) throws IOException {
    Set<String> numbers = new LinkedHashSet<>();
    List<String> rejected = new ArrayList<>();
    try (CSVParser parser = CSVFormat.DEFAULT.builder().setHeader().setSkipHeaderRecord(true)
        .setIgnoreEmptyLines(true).setTrim(true).get().parse(csv)) {
      String column = parser.getHeaderNames().stream()
          .filter(h -> h.trim().toLowerCase(Locale.ROOT).matches("phone|phone ?number|number|mobile"))
          .findFirst()
          .orElseThrow(() -> new IOException("the CSV has no phone column (expected a header named phone)"));
      for (CSVRecord record : parser) {
        String raw = record.isMapped(column) ? record.get(column) : null;
        String e164 = phones.e164(raw);
        if (e164 == null) {
          rejected.add("line " + parser.getCurrentLineNumber() + ": \"" + raw + "\" is not a phone number");
        } else {
          numbers.add(e164);
        }
      }
    }
    long now = System.currentTimeMillis();
    return store.inTransaction(tx -> Campaigns.create(tx, name, message, followUp, responseWindowMillis, fromLine, now)
        .compose(campaign -> {
          int[] added = {0};
          Future<Void> chain = Future.succeededFuture();
          for (String number : numbers) {
            chain = chain.compose(v -> Campaigns.addRecipient(tx, campaign, number, now).map(isNew -> {
              added[0] += isNew ? 1 : 0;
              return null;
            }));
          }
          return chain.map(v -> new Outcome(campaign, added[0], numbers.size() - added[0], rejected));
        }));
  }
}
