package io.webhookd.crm;

import io.webhookd.config.Settings;
import io.webhookd.crm.automation.Automation;
import io.webhookd.crm.automation.AutomationRules;
import io.webhookd.event.EventTypes;
import io.webhookd.process.HandlerRegistry;

/** The CRM's handler for each event type it knows. */
public final class CrmHandlers {

  private CrmHandlers() {
  }

  /** Loads the automation rules too: an invalid rule throws {@code InvalidSettingException}. */
  public static HandlerRegistry registry(Settings settings) {
    CrmContext crm = new CrmContext(settings.crm(), settings.api(),
        new PhoneNumbers(settings.crm().defaultRegion()), new Keywords(settings.crm()),
        new Automation(AutomationRules.load(settings.crm().automationFile())));
    return new HandlerRegistry()
        .register(EventTypes.MESSAGES, new MessageHandler(crm))
        .register(EventTypes.CALLS, new CallHandler(crm))
        .register(EventTypes.CONTACTS, new ContactHandler(crm))
        .register(EventTypes.OPT_OUT, new OptOutHandler(crm));
  }
}
