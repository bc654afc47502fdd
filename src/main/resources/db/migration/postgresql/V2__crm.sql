-- The CRM the webhooks keep true. Times are epoch milliseconds; flags are 0/1 integers.

-- People, found or created by phone number; OpenPhone's contact id once a contact event names it.
CREATE TABLE contacts (
  id                BIGSERIAL PRIMARY KEY,
  openphone_id      TEXT UNIQUE,
  first_name        TEXT,
  last_name         TEXT,
  company           TEXT,
  source_updated_at BIGINT,        -- the newest contact event applied; an older one changes nothing
  deleted_at        BIGINT,        -- soft delete: history stays
  created_at        BIGINT NOT NULL,
  updated_at        BIGINT NOT NULL
);

-- Numbers in E.164, each belonging to one contact. Consent is per number: the number that texted
-- STOP is the one that must not be texted again.
CREATE TABLE contact_phones (
  phone             TEXT PRIMARY KEY,
  contact_id        BIGINT NOT NULL REFERENCES contacts (id),
  opted_out         INTEGER NOT NULL DEFAULT 0,
  consent_changed_at BIGINT,
  updated_at        BIGINT NOT NULL
);
CREATE INDEX contact_phones_contact ON contact_phones (contact_id);

CREATE TABLE contact_tags (
  contact_id        BIGINT NOT NULL REFERENCES contacts (id),
  tag               TEXT NOT NULL,
  created_at        BIGINT NOT NULL,
  PRIMARY KEY (contact_id, tag)
);

-- One row per provider message id. The status only moves up (received/sent < delivered <
-- undelivered/failed), whatever order the events arrive in.
CREATE TABLE messages (
  id                BIGSERIAL PRIMARY KEY,
  provider_id       TEXT NOT NULL UNIQUE,
  direction         TEXT,
  contact_id        BIGINT REFERENCES contacts (id),
  from_number       TEXT,
  to_numbers        TEXT,
  body              TEXT,
  media_urls        TEXT,          -- JSON array
  status            TEXT NOT NULL,
  status_rank       INTEGER NOT NULL,
  error_code        TEXT,
  conversation_id   TEXT,
  phone_number_id   TEXT,
  user_id           TEXT,
  sent_at           BIGINT,
  created_at        BIGINT NOT NULL,
  updated_at        BIGINT NOT NULL
);
CREATE INDEX messages_contact ON messages (contact_id);

-- One row per call, merged from its events in any order.
CREATE TABLE calls (
  id                BIGSERIAL PRIMARY KEY,
  provider_id       TEXT NOT NULL UNIQUE,
  direction         TEXT,
  contact_id        BIGINT REFERENCES contacts (id),
  from_number       TEXT,
  to_number         TEXT,
  status            TEXT,
  status_rank       INTEGER NOT NULL DEFAULT 0,
  conversation_id   TEXT,
  phone_number_id   TEXT,
  user_id           TEXT,
  started_at        BIGINT,
  answered_at       BIGINT,
  completed_at      BIGINT,
  forwarded_to      TEXT,
  recording_url     TEXT,
  recording_duration INTEGER,
  voicemail_url     TEXT,
  voicemail_duration INTEGER,
  summary           TEXT,          -- JSON
  transcript        TEXT,          -- JSON
  created_at        BIGINT NOT NULL,
  updated_at        BIGINT NOT NULL
);

-- Proof of consent changes: who, when, which keyword, from which event. Never updated.
CREATE TABLE compliance_records (
  id                BIGSERIAL PRIMARY KEY,
  phone             TEXT NOT NULL,
  contact_id        BIGINT,
  action            TEXT NOT NULL, -- opt_out, opt_in
  keyword           TEXT,
  source_event_id   TEXT NOT NULL,
  at                BIGINT NOT NULL,
  UNIQUE (source_event_id, action)
);
CREATE INDEX compliance_records_phone ON compliance_records (phone, at);

-- Texts to send through the OpenPhone API. dedup_key makes every enqueue idempotent.
CREATE TABLE outbound_messages (
  id                BIGSERIAL PRIMARY KEY,
  dedup_key         TEXT NOT NULL UNIQUE,
  kind              TEXT NOT NULL, -- reply, help, opt_out_confirmation, opt_in_confirmation, campaign, follow_up, automation
  to_number         TEXT NOT NULL,
  from_number       TEXT,
  body              TEXT NOT NULL,
  campaign_id       BIGINT,
  state             TEXT NOT NULL, -- queued, sending, sent, failed, cancelled, blocked
  attempts          INTEGER NOT NULL DEFAULT 0,
  due_at            BIGINT NOT NULL,
  lease_owner       TEXT,
  lease_until       BIGINT,
  last_error        TEXT,
  provider_message_id TEXT,
  created_at        BIGINT NOT NULL,
  updated_at        BIGINT NOT NULL,
  sent_at           BIGINT
);
CREATE INDEX outbound_messages_due ON outbound_messages (due_at) WHERE state = 'queued';
CREATE INDEX outbound_messages_to ON outbound_messages (to_number, state);

-- Events posted to URLs by automation rules.
CREATE TABLE outbound_webhooks (
  id                BIGSERIAL PRIMARY KEY,
  dedup_key         TEXT NOT NULL UNIQUE,
  url               TEXT NOT NULL,
  body              TEXT NOT NULL,
  state             TEXT NOT NULL, -- queued, sending, delivered, failed
  attempts          INTEGER NOT NULL DEFAULT 0,
  due_at            BIGINT NOT NULL,
  lease_owner       TEXT,
  lease_until       BIGINT,
  last_error        TEXT,
  created_at        BIGINT NOT NULL,
  updated_at        BIGINT NOT NULL,
  delivered_at      BIGINT
);
CREATE INDEX outbound_webhooks_due ON outbound_webhooks (due_at) WHERE state = 'queued';

CREATE TABLE campaigns (
  id                BIGSERIAL PRIMARY KEY,
  name              TEXT NOT NULL UNIQUE,
  message           TEXT NOT NULL,
  follow_up         TEXT,
  response_window_ms BIGINT NOT NULL,
  from_number       TEXT,
  created_at        BIGINT NOT NULL
);

CREATE TABLE campaign_recipients (
  campaign_id       BIGINT NOT NULL REFERENCES campaigns (id),
  phone             TEXT NOT NULL,
  contact_id        BIGINT,
  queued_at         BIGINT NOT NULL,
  sent_at           BIGINT,
  PRIMARY KEY (campaign_id, phone)
);
CREATE INDEX campaign_recipients_phone ON campaign_recipients (phone);

-- A recipient's reply within the campaign's window, recorded once per recipient.
CREATE TABLE campaign_responses (
  id                BIGSERIAL PRIMARY KEY,
  campaign_id       BIGINT NOT NULL REFERENCES campaigns (id),
  phone             TEXT NOT NULL,
  message_provider_id TEXT NOT NULL,
  classification    TEXT NOT NULL, -- interested, not_interested, other
  body              TEXT,
  responded_at      BIGINT NOT NULL,
  UNIQUE (campaign_id, phone)
);

-- Each automation rule fires at most once per event, replays included.
CREATE TABLE automation_firings (
  rule_name         TEXT NOT NULL,
  source            TEXT NOT NULL,
  event_id          TEXT NOT NULL,
  fired_at          BIGINT NOT NULL,
  PRIMARY KEY (rule_name, source, event_id)
);
