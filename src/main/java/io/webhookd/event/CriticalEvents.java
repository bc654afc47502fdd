package io.webhookd.event;

import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Events that must not wait and must not be missed: inbound texts ({@code message.received}),
 * opt-outs ({@code opt_out}), and any inbound text that is an opt-out keyword. Their senders are
 * answered after processing when it fits the budget, and their dead-lettering raises an alert.
 */
public final class CriticalEvents {

  public static final Set<String> TYPES = Set.of("message.received", "opt_out");

  private final Set<String> optOutKeywords;

  /** @param optOutKeywords compared with the whole text, trimmed, ignoring case */
  public CriticalEvents(List<String> optOutKeywords) {
    this.optOutKeywords = optOutKeywords.stream()
        .map(k -> k.trim().toUpperCase(Locale.ROOT)).collect(Collectors.toUnmodifiableSet());
  }

  public boolean isCritical(String type, String text, boolean inbound) {
    return TYPES.contains(type) || (inbound && isOptOutKeyword(text));
  }

  public boolean isOptOutKeyword(String text) {
    return text != null && optOutKeywords.contains(text.trim().toUpperCase(Locale.ROOT));
  }
}
