-- The inbox: every authenticated webhook, stored once per (source, event_id) before it is acknowledged.
-- Times are epoch milliseconds.
CREATE TABLE inbox_events (
  id               INTEGER PRIMARY KEY AUTOINCREMENT,
  source           TEXT    NOT NULL,
  event_id         TEXT    NOT NULL,
  event_type       TEXT    NOT NULL,
  occurred_at      INTEGER NOT NULL,
  partition_key    TEXT    NOT NULL,
  received_at      INTEGER NOT NULL,
  signature_scheme TEXT    NOT NULL,
  body             BLOB    NOT NULL,
  status           TEXT    NOT NULL, -- pending, processing, processed
  attempts         INTEGER NOT NULL DEFAULT 0,
  due_at           INTEGER NOT NULL, -- a pending event is not claimed before this
  lease_owner      TEXT,             -- the instance processing it
  lease_until      INTEGER,          -- after this another claim may take it over
  updated_at       INTEGER NOT NULL,
  UNIQUE (source, event_id)
);

CREATE INDEX inbox_events_due ON inbox_events (due_at, id) WHERE status = 'pending';
CREATE INDEX inbox_events_leased ON inbox_events (lease_until) WHERE status = 'processing';

-- Signed requests that could not be read as events, kept once per distinct body for an operator.
CREATE TABLE rejected_requests (
  body_sha256      TEXT    PRIMARY KEY,
  reason           TEXT    NOT NULL,
  signature_scheme TEXT,
  content_type     TEXT,
  first_seen_at    INTEGER NOT NULL,
  last_seen_at     INTEGER NOT NULL,
  times_seen       INTEGER NOT NULL,
  body             BLOB    NOT NULL
);
