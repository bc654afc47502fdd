package io.webhookd.crm.automation;

import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * One rule of {@code conf/automation.yaml}: conditions that must all hold, and actions taken once
 * per event when they do.
 *
 * @param types    event types it applies to; empty: any
 * @param keyword  a word the text must contain (any case); null: any
 * @param pattern  a regular expression the text must match (find); null: any
 * @param tag      a tag the contact must have; null: any
 * @param campaign the campaign the text must answer (within its window); null: any
 */
public record AutomationRule(String name, Set<String> types, String keyword, Pattern pattern, String tag,
    String campaign, List<Action> actions) {

  /** Exactly one of the fields is set. */
  public record Action(String tag, String reply, String post) {
  }

  /** What a rule is matched against. */
  public record Facts(String type, String text, Set<String> contactTags, String campaign) {
  }

  public boolean matches(Facts facts) {
    if (!types.isEmpty() && !types.contains(facts.type())) {
      return false;
    }
    if (keyword != null && (facts.text() == null || !containsWord(facts.text(), keyword))) {
      return false;
    }
    if (pattern != null && (facts.text() == null || !pattern.matcher(facts.text()).find())) {
      return false;
    }
    if (tag != null && !facts.contactTags().contains(tag)) {
      return false;
    }
    return campaign == null || campaign.equals(facts.campaign());
  }

  private static boolean containsWord(String text, String word) {
    String haystack = " " + text.toLowerCase(Locale.ROOT).replaceAll("[^\\p{L}\\p{N}]+", " ") + " ";
    return haystack.contains(" " + word.toLowerCase(Locale.ROOT).trim() + " ");
  }
}
