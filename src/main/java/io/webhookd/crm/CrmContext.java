package io.webhookd.crm;

import io.webhookd.config.Settings;
import io.webhookd.crm.automation.Automation;

/**
 * What every CRM handler needs: the settings (texts, keywords, the default line), number
 * normalisation, keyword reading and the automation rules.
 */
public record CrmContext(Settings.Crm settings, Settings.OpenPhoneApi api, PhoneNumbers phones, Keywords keywords,
    Automation automation) {

  /** The line a reply is sent from: the one the event came through, else the configured one. */
  public String line(String eventLine) {
    return eventLine != null && !eventLine.isBlank() ? eventLine : api.fromNumber();
  }
}
