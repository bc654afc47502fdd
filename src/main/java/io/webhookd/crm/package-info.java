/**
 * The CRM: handlers that turn events into contacts, messages, calls and opt-outs, and the tables
 * they keep.
 */
package io.webhookd.crm;
