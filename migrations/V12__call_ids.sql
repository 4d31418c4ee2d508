-- sipmirror schema, part 12: the ids that tie a call in the history to the push API.
--
-- v2's history sends with each call its `callId` (the push API's id of the call, the key of
-- `live_calls` and of `/calls`), the ids of its recordings and, where sipgate says, who
-- answered it (`responder`). They are in each event's `raw_json`; these columns read them from
-- there (generated, so a sync writes nothing more), and the `call_ids` view joins the two.

ALTER TABLE mirror_events ADD COLUMN call_id TEXT
    GENERATED ALWAYS AS (json_extract(raw_json, '$.callId')) VIRTUAL;      -- v2 callId
ALTER TABLE mirror_events ADD COLUMN responder TEXT
    GENERATED ALWAYS AS (json_extract(raw_json, '$.responder')) VIRTUAL;   -- v2 responder
ALTER TABLE mirror_events ADD COLUMN recordings_json TEXT
    GENERATED ALWAYS AS (json_extract(raw_json, '$.recordings')) VIRTUAL;  -- v2 recordings, JSON

CREATE INDEX mirror_events_call_id ON mirror_events (call_id) WHERE call_id IS NOT NULL;

-- Each call of the history with the push API's id of it: join `calls` (on `event_id`) and
-- `live_calls` (on `call_id`), e.g.
--   SELECT c.*, l.users FROM calls c JOIN call_ids i ON i.event_id = c.id
--     JOIN live_calls l USING (call_id);
CREATE VIEW call_ids AS
SELECT e.id AS event_id,                        -- calls.id
       e.call_id,                               -- live_calls.call_id, /calls id
       e.responder,                             -- who answered, where upstream says
       (SELECT json_group_array(json_extract(r.value, '$.id'))
          FROM json_each(e.recordings_json) r) AS recording_ids  -- JSON array
FROM mirror_events e
WHERE e.kind = 'call' AND e.call_id IS NOT NULL AND e.upstream_state = 'present';
