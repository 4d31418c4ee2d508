-- sipmirror schema, part 3: SMS and faxes queued in the outbox and sent exactly once.
--
-- `sipmirror send sms|fax` puts a send into `outbox` (op 'send_sms' or 'send_fax', the request
-- in `payload_json`, a random `client_token`), and `push`/`sync` sends it. Sends are not
-- idempotent upstream: a retry after a lost answer would send the message twice. So before the
-- request goes out, the time is written to `attempt_started_at` and committed; when the answer
-- is lost, the entry keeps that time, and the next attempt first lists the messages sent
-- upstream since then and closes the entry if its message is among them. Upstream cannot carry
-- our token, so the message is recognised by its type, recipients, sender and text (SMS) or
-- page count (fax), created after the attempt began; an upstream event already claimed by
-- another send is never claimed again, so two identical messages both go out.

-- Sends: when the first attempt whose outcome is unknown began (set and committed before the
-- request goes out; cleared only when upstream certainly did not act). While it is set, the
-- next attempt looks for the message upstream before sending.
ALTER TABLE outbox ADD COLUMN attempt_started_at TEXT;

-- Sends: the upstream event id of the message, once known. No two sends claim one event.
ALTER TABLE outbox_log ADD COLUMN upstream_event_id INTEGER;

CREATE UNIQUE INDEX outbox_log_upstream_event ON outbox_log (upstream_event_id)
    WHERE upstream_event_id IS NOT NULL;

-- Outbox ids are shown to people (`outbox list`, `outbox retry ID`) and kept in the log, so
-- one id must never name two entries over time. The table has no AUTOINCREMENT, and SQLite
-- reuses the highest rowid once that row is gone; this moves a new entry past every id the
-- log has seen.
CREATE INDEX outbox_log_outbox_id ON outbox_log (outbox_id);

CREATE TRIGGER outbox_ids_never_reused AFTER INSERT ON outbox
WHEN NEW.id <= (SELECT max(outbox_id) FROM outbox_log)
BEGIN
    UPDATE outbox
    SET id = max((SELECT max(outbox_id) FROM outbox_log), (SELECT max(id) FROM outbox)) + 1
    WHERE id = NEW.id;
END;

-- The PDF of a queued fax, copied in when it is queued, so that moving or editing the file
-- afterwards changes nothing. Removed with its outbox entry once the fax is sent or dropped.
CREATE TABLE outbox_documents (
    outbox_id  INTEGER PRIMARY KEY REFERENCES outbox (id) ON DELETE CASCADE,
    file_name  TEXT NOT NULL,                   -- the name it was queued under, for display
    size       INTEGER NOT NULL,                -- bytes
    sha256     TEXT NOT NULL,                   -- lowercase hex of the content
    pages      INTEGER NOT NULL,                -- page count, used to recognise the fax upstream
    content    BLOB NOT NULL
) STRICT;

-- Every SMS and fax queued with `sipmirror send`: those waiting in the outbox (state
-- 'pending', 'in_flight' or 'failed') and those already sent (state 'sent', with the upstream
-- event id; the event itself shows up in `sms`/`faxes` after the next sync) or dropped.
CREATE VIEW sends AS
SELECT o.id                                         AS id,              -- outbox entry id
       CASE o.op WHEN 'send_sms' THEN 'sms' ELSE 'fax' END AS kind,     -- sms or fax
       json_extract(o.payload_json, '$.targets')    AS recipients,      -- JSON array of E.164 numbers
       json_extract(o.payload_json, '$.source')     AS sender,          -- own number or extension, or NULL (default)
       json_extract(o.payload_json, '$.text')       AS text,            -- SMS text; NULL for faxes
       d.file_name                                  AS document,        -- fax: the PDF's file name
       json_extract(o.payload_json, '$.pages')      AS pages,           -- fax: page count
       json_extract(o.payload_json, '$.schedule')   AS scheduled_utc,   -- send time asked for, UTC, or NULL (now)
       o.state                                      AS state,           -- pending, in_flight, failed, sent, dropped
       o.attempts                                   AS attempts,
       o.last_error                                 AS last_error,
       NULL                                         AS upstream_event_id,
       o.client_token                               AS client_token,
       o.created_at                                 AS queued_at,
       NULL                                         AS closed_at
FROM outbox o LEFT JOIN outbox_documents d ON d.outbox_id = o.id
WHERE o.op IN ('send_sms', 'send_fax')
UNION ALL
SELECT l.outbox_id,
       CASE l.op WHEN 'send_sms' THEN 'sms' ELSE 'fax' END,
       json_extract(l.value, '$.targets'),
       json_extract(l.value, '$.source'),
       json_extract(l.value, '$.text'),
       json_extract(l.value, '$.file_name'),
       json_extract(l.value, '$.pages'),
       json_extract(l.value, '$.schedule'),
       CASE l.result WHEN 'dropped' THEN 'dropped' ELSE 'sent' END,
       NULL,
       l.detail,
       l.upstream_event_id,
       json_extract(l.value, '$.client_token'),
       json_extract(l.value, '$.queued_at'),
       l.closed_at
FROM outbox_log l
WHERE l.op IN ('send_sms', 'send_fax');
