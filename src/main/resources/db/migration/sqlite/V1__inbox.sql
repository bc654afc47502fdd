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
  status           TEXT    NOT NULL, -- pending, processing, processed, ignored, dead, discarded
  attempts         INTEGER NOT NULL DEFAULT 0, -- processing attempts so far
  last_error       TEXT,             -- the latest failure, one line
  first_failed_at  INTEGER,
  last_failed_at   INTEGER,
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

-- Events that could not be processed: kept with their failure until an operator replays or
-- discards them. The event itself stays in inbox_events (status 'dead').
CREATE TABLE dead_letters (
  inbox_id         INTEGER PRIMARY KEY REFERENCES inbox_events (id),
  source           TEXT    NOT NULL,
  event_id         TEXT    NOT NULL,
  event_type       TEXT    NOT NULL,
  error            TEXT    NOT NULL,
  stack_trace      TEXT,
  attempts         INTEGER NOT NULL,
  first_failed_at  INTEGER NOT NULL,
  last_failed_at   INTEGER NOT NULL,
  dead_at          INTEGER NOT NULL,
  resolved_at      INTEGER,          -- set when replayed or discarded
  resolution       TEXT,               -- replayed, discarded: <reason>
  resolved_by      TEXT
);

CREATE INDEX dead_letters_open ON dead_letters (dead_at) WHERE resolved_at IS NULL;

-- Every state change of every event, for an operator to follow one event's life.
CREATE TABLE event_audit (
  id               INTEGER PRIMARY KEY AUTOINCREMENT,
  inbox_id         INTEGER,           -- null for a duplicate whose original is unknown here
  source           TEXT    NOT NULL,
  event_id         TEXT    NOT NULL,
  at               INTEGER NOT NULL,
  state            TEXT    NOT NULL,    -- received, duplicate, processing, processed, ignored,
                                        -- retry_scheduled, dead_lettered, replayed, discarded
  attempt          INTEGER NOT NULL DEFAULT 0,
  detail           TEXT,                -- outcome or error, one line
  actor            TEXT                 -- instance or operator
);

CREATE INDEX event_audit_event ON event_audit (source, event_id, id);
