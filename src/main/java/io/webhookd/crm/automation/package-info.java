/**
 * Automation rules from {@code conf/automation.yaml}: conditions on an event (type, keyword,
 * regex, contact tag, campaign) and actions (tag the contact, queue a reply, POST the event).
 */
package io.webhookd.crm.automation;
