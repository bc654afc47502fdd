-- The audit trail is found through the event's inbox row. Indexed by (source, event_id), every
-- audit row was an insert at a random place in that index (event ids are random), and each event
-- writes several: under load that was most of the pages written per event. inbox_id grows with
-- every event, so new rows land at the end of this index.
DROP INDEX event_audit_event;
CREATE INDEX event_audit_inbox ON event_audit (inbox_id, id);
