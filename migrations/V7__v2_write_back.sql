-- sipmirror schema, part 7: writing back through sipgate's API v2.
--
-- Part 5 refused every local edit on a mirror fed by v2. Now edits go through the outbox for
-- both dialects, and each field is editable where the feeding API can write it:
--
--   field      classic (api.sipgate.net)       v2 (api.sipgate.com/v2)
--   read       yes                              yes (PUT /history)
--   starred    yes                              yes
--   labels     yes                              no: v2 has no way to write them
--   location   only to 'trash' (DELETE: trash)  only to 'trash' (DELETE: gone for good)
--   archived   no: classic cannot move events   yes
--   note       no: classic cannot write it      yes
--
-- An edit of a field the feeding API cannot write is refused at once (one line, nothing
-- changes, nothing is queued), from the CLI and from SQL alike.
--
-- `archived` and `note` get their own visible and base columns, kept like read/starred: a pull
-- updates the base and leaves the visible value alone while a local edit of it waits.

ALTER TABLE mirror_events ADD COLUMN archived INTEGER NOT NULL DEFAULT 0;  -- 0/1, as shown
ALTER TABLE mirror_events ADD COLUMN archived_base INTEGER;                -- as upstream has it
ALTER TABLE mirror_events ADD COLUMN comment_base TEXT;                    -- the note upstream has
UPDATE mirror_events
   SET archived = (location = 'archive'),
       archived_base = (coalesce(location_base, location) = 'archive'),
       comment_base = comment;

-- The views that read the outbox are rebuilt below; drop them first, so that the outbox can be
-- rebuilt under them.
DROP VIEW sends;
DROP VIEW voicemails;
DROP VIEW sms;
DROP VIEW faxes;
DROP VIEW calls;
DROP VIEW events;
DROP VIEW event_flags;

-- The outbox's `field` takes the two new fields. SQLite cannot change a CHECK in place, so the
-- table is rebuilt: same columns, same ids. Dropping the old table deletes the queued faxes'
-- documents (ON DELETE CASCADE), so they are kept aside and put back.
CREATE TABLE outbox_documents_kept AS SELECT * FROM outbox_documents;

CREATE TABLE outbox_new (
    id              INTEGER PRIMARY KEY,        -- also the replay order
    op              TEXT NOT NULL CHECK (op IN ('set', 'delete', 'send_sms', 'send_fax')),
    event_id        INTEGER,                    -- the event edited (NULL for sends)
    field           TEXT CHECK (field IN ('read', 'starred', 'labels', 'location', 'archived', 'note')),
    value           TEXT,                       -- target value: '0'/'1', a label list, 'trash', a note
    payload_json    TEXT,                       -- sends: the request to make
    client_token    TEXT UNIQUE,                -- sends: our idempotency token
    state           TEXT NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'in_flight', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,                       -- earliest retry after a transient error
    last_error      TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    attempt_started_at TEXT,                    -- sends: see part 3
    edit_base       TEXT                        -- edits: see part 6
) STRICT;

INSERT INTO outbox_new (id, op, event_id, field, value, payload_json, client_token, state,
                        attempts, next_attempt_at, last_error, created_at, updated_at,
                        attempt_started_at, edit_base)
SELECT id, op, event_id, field, value, payload_json, client_token, state,
       attempts, next_attempt_at, last_error, created_at, updated_at,
       attempt_started_at, edit_base
FROM outbox;

DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
INSERT INTO outbox_documents SELECT * FROM outbox_documents_kept;
DROP TABLE outbox_documents_kept;

CREATE UNIQUE INDEX outbox_one_per_field ON outbox (event_id, field) WHERE op = 'set';
CREATE INDEX outbox_state ON outbox (state, next_attempt_at);
CREATE INDEX outbox_event ON outbox (event_id);

-- As in part 3: outbox ids are never reused.
CREATE TRIGGER outbox_ids_never_reused AFTER INSERT ON outbox
WHEN NEW.id <= (SELECT max(outbox_id) FROM outbox_log)
BEGIN
    UPDATE outbox
    SET id = max((SELECT max(outbox_id) FROM outbox_log), (SELECT max(id) FROM outbox)) + 1
    WHERE id = NEW.id;
END;

-- As in part 6, with the two new fields: an edit remembers the upstream value it was made
-- against.
CREATE TRIGGER outbox_remembers_the_edit_base AFTER INSERT ON outbox
WHEN NEW.op IN ('set', 'delete') AND NEW.edit_base IS NULL
BEGIN
    UPDATE outbox SET edit_base = (
        SELECT CASE NEW.field WHEN 'read' THEN CAST(e.read_base AS TEXT)
                              WHEN 'starred' THEN CAST(e.starred_base AS TEXT)
                              WHEN 'labels' THEN e.labels_base
                              WHEN 'archived' THEN CAST(e.archived_base AS TEXT)
                              WHEN 'note' THEN coalesce(e.comment_base, '')
                              ELSE e.location_base END
        FROM mirror_events e WHERE e.id = NEW.event_id)
    WHERE id = NEW.id;
END;

-- Only what the feeding API can write enters the outbox (the table at the top). A mirror
-- without `sync_meta.api` was fed by the classic API.
CREATE TRIGGER outbox_only_what_the_api_can_write BEFORE INSERT ON outbox
WHEN NEW.op = 'set'
BEGIN
    SELECT RAISE(ABORT, 'sipmirror: labels cannot be written through sipgate''s API v2, which feeds this mirror (v2 has no way to set them); the mirror shows the labels upstream has')
     WHERE NEW.field = 'labels' AND (SELECT value FROM sync_meta WHERE key = 'api') = 'v2';
    SELECT RAISE(ABORT, 'sipmirror: the classic API, which feeds this mirror, cannot archive events or write notes (sipgate''s API v2 can)')
     WHERE NEW.field IN ('archived', 'note')
       AND (SELECT value FROM sync_meta WHERE key = 'api') IS NOT 'v2';
END;

------------------------------------------------------------------------------------------------
-- event_flags: the editable core, now with archived and note.
------------------------------------------------------------------------------------------------

CREATE VIEW event_flags AS
SELECT id,
       kind,                                        -- call, fax, sms, voicemail
       read,                                        -- 0/1, as shown (local edits included)
       starred,                                     -- 0/1
       labels,                                      -- comma-separated; '' = none
       location,                                    -- inbox, sent, archive, trash
       archived,                                    -- 0/1
       comment AS note,                             -- the event's note, NULL for none
       CASE upstream_state WHEN 'deleted' THEN 1 ELSE 0 END AS gone_upstream -- 1: no longer upstream
FROM mirror_events;

CREATE TRIGGER event_flags_no_insert INSTEAD OF INSERT ON event_flags
BEGIN
    SELECT RAISE(ABORT, 'sipmirror: events cannot be inserted; they come from upstream');
END;

CREATE TRIGGER event_flags_delete INSTEAD OF DELETE ON event_flags
BEGIN
    UPDATE event_flags SET location = 'trash' WHERE id = OLD.id;
END;

CREATE TRIGGER event_flags_read_only INSTEAD OF UPDATE OF id, kind, gone_upstream ON event_flags
BEGIN
    SELECT RAISE(ABORT, 'sipmirror: only read, starred, labels, location, archived and note can be changed');
END;

CREATE TRIGGER event_flags_edit INSTEAD OF UPDATE OF read, starred, labels, location, archived, note ON event_flags
BEGIN
    -- Checks first: a failed check aborts the whole statement, so nothing changes.
    SELECT RAISE(ABORT, 'sipmirror: this event is gone upstream and cannot be edited')
     WHERE OLD.gone_upstream = 1
       AND (NEW.read IS NOT OLD.read OR NEW.starred IS NOT OLD.starred
            OR NEW.labels IS NOT OLD.labels OR NEW.location IS NOT OLD.location
            OR NEW.archived IS NOT OLD.archived OR NEW.note IS NOT OLD.note);
    SELECT RAISE(ABORT, 'sipmirror: read must be 0 or 1')
     WHERE NEW.read IS NOT OLD.read
       AND (typeof(NEW.read) <> 'integer' OR NEW.read NOT IN (0, 1));
    SELECT RAISE(ABORT, 'sipmirror: starred must be 0 or 1')
     WHERE NEW.starred IS NOT OLD.starred
       AND (typeof(NEW.starred) <> 'integer' OR NEW.starred NOT IN (0, 1));
    SELECT RAISE(ABORT, 'sipmirror: archived must be 0 or 1')
     WHERE NEW.archived IS NOT OLD.archived
       AND (typeof(NEW.archived) <> 'integer' OR NEW.archived NOT IN (0, 1));
    SELECT RAISE(ABORT, 'sipmirror: a note is text of at most 2000 characters without control characters other than line breaks and tabs ('''' or NULL for none)')
     WHERE NEW.note IS NOT OLD.note
       AND (typeof(NEW.note) NOT IN ('text', 'null')
            OR length(NEW.note) > 2000
            OR NEW.note GLOB ('*[' || char(1, 2, 3, 4, 5, 6, 7, 8, 11, 12, 14, 15, 16, 17, 18, 19,
                                            20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 127) || ']*'));
    SELECT RAISE(ABORT, 'sipmirror: labels must be a comma-separated list like ''todo,urgent'' ('''' for none): no empty entries, no spaces around commas, no control characters')
     WHERE NEW.labels IS NOT OLD.labels
       AND (typeof(NEW.labels) <> 'text'
            OR (NEW.labels <> ''
                AND (NEW.labels GLOB ',*' OR NEW.labels GLOB '*,' OR instr(NEW.labels, ',,') > 0
                     OR instr(NEW.labels, ' ,') > 0 OR instr(NEW.labels, ', ') > 0
                     OR NEW.labels <> trim(NEW.labels)
                     OR NEW.labels GLOB ('*[' || char(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
                                                     16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27,
                                                     28, 29, 30, 31, 127) || ']*'))));
    SELECT RAISE(ABORT, 'sipmirror: location can only be set to ''trash'', or back to its upstream value to cancel a waiting delete')
     WHERE NEW.location IS NOT OLD.location
       AND NEW.location IS NOT 'trash'
       AND NEW.location IS NOT (SELECT location_base FROM mirror_events WHERE id = OLD.id);

    -- read
    UPDATE mirror_events SET read = NEW.read WHERE id = OLD.id AND NEW.read IS NOT OLD.read;
    DELETE FROM outbox
     WHERE op = 'set' AND event_id = OLD.id AND field = 'read' AND NEW.read IS NOT OLD.read
       AND NEW.read IS (SELECT read_base FROM mirror_events WHERE id = OLD.id);
    INSERT INTO outbox (op, event_id, field, value, created_at, updated_at)
    SELECT 'set', OLD.id, 'read', coalesce(NEW.read, ''), strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
     WHERE NEW.read IS NOT OLD.read
       AND NEW.read IS NOT (SELECT read_base FROM mirror_events WHERE id = OLD.id)
    ON CONFLICT (event_id, field) WHERE op = 'set' DO UPDATE
       SET value = excluded.value, state = 'pending', attempts = 0, next_attempt_at = NULL,
           last_error = NULL, updated_at = excluded.updated_at;

    -- starred
    UPDATE mirror_events SET starred = NEW.starred WHERE id = OLD.id AND NEW.starred IS NOT OLD.starred;
    DELETE FROM outbox
     WHERE op = 'set' AND event_id = OLD.id AND field = 'starred' AND NEW.starred IS NOT OLD.starred
       AND NEW.starred IS (SELECT starred_base FROM mirror_events WHERE id = OLD.id);
    INSERT INTO outbox (op, event_id, field, value, created_at, updated_at)
    SELECT 'set', OLD.id, 'starred', coalesce(NEW.starred, ''), strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
     WHERE NEW.starred IS NOT OLD.starred
       AND NEW.starred IS NOT (SELECT starred_base FROM mirror_events WHERE id = OLD.id)
    ON CONFLICT (event_id, field) WHERE op = 'set' DO UPDATE
       SET value = excluded.value, state = 'pending', attempts = 0, next_attempt_at = NULL,
           last_error = NULL, updated_at = excluded.updated_at;

    -- labels
    UPDATE mirror_events SET labels = NEW.labels WHERE id = OLD.id AND NEW.labels IS NOT OLD.labels;
    DELETE FROM outbox
     WHERE op = 'set' AND event_id = OLD.id AND field = 'labels' AND NEW.labels IS NOT OLD.labels
       AND NEW.labels IS (SELECT labels_base FROM mirror_events WHERE id = OLD.id);
    INSERT INTO outbox (op, event_id, field, value, created_at, updated_at)
    SELECT 'set', OLD.id, 'labels', coalesce(NEW.labels, ''), strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
     WHERE NEW.labels IS NOT OLD.labels
       AND NEW.labels IS NOT (SELECT labels_base FROM mirror_events WHERE id = OLD.id)
    ON CONFLICT (event_id, field) WHERE op = 'set' DO UPDATE
       SET value = excluded.value, state = 'pending', attempts = 0, next_attempt_at = NULL,
           last_error = NULL, updated_at = excluded.updated_at;

    -- archived
    UPDATE mirror_events SET archived = NEW.archived WHERE id = OLD.id AND NEW.archived IS NOT OLD.archived;
    DELETE FROM outbox
     WHERE op = 'set' AND event_id = OLD.id AND field = 'archived' AND NEW.archived IS NOT OLD.archived
       AND NEW.archived IS (SELECT archived_base FROM mirror_events WHERE id = OLD.id);
    INSERT INTO outbox (op, event_id, field, value, created_at, updated_at)
    SELECT 'set', OLD.id, 'archived', coalesce(NEW.archived, ''), strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
     WHERE NEW.archived IS NOT OLD.archived
       AND NEW.archived IS NOT (SELECT archived_base FROM mirror_events WHERE id = OLD.id)
    ON CONFLICT (event_id, field) WHERE op = 'set' DO UPDATE
       SET value = excluded.value, state = 'pending', attempts = 0, next_attempt_at = NULL,
           last_error = NULL, updated_at = excluded.updated_at;

    -- note
    UPDATE mirror_events SET comment = nullif(NEW.note, '') WHERE id = OLD.id AND NEW.note IS NOT OLD.note;
    DELETE FROM outbox
     WHERE op = 'set' AND event_id = OLD.id AND field = 'note' AND NEW.note IS NOT OLD.note
       AND nullif(NEW.note, '') IS (SELECT comment_base FROM mirror_events WHERE id = OLD.id);
    INSERT INTO outbox (op, event_id, field, value, created_at, updated_at)
    SELECT 'set', OLD.id, 'note', coalesce(nullif(NEW.note, ''), ''), strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
     WHERE NEW.note IS NOT OLD.note
       AND nullif(NEW.note, '') IS NOT (SELECT comment_base FROM mirror_events WHERE id = OLD.id)
    ON CONFLICT (event_id, field) WHERE op = 'set' DO UPDATE
       SET value = excluded.value, state = 'pending', attempts = 0, next_attempt_at = NULL,
           last_error = NULL, updated_at = excluded.updated_at;
    -- location. Trashing supersedes the event's waiting field edits; moving back to the
    -- upstream value cancels the waiting delete.
    DELETE FROM outbox
     WHERE op = 'set' AND event_id = OLD.id AND NEW.location = 'trash' AND OLD.location IS NOT 'trash';
    UPDATE mirror_events
       SET location = NEW.location,
           read = CASE WHEN NEW.location = 'trash' THEN coalesce(read_base, read) ELSE read END,
           starred = CASE WHEN NEW.location = 'trash' THEN coalesce(starred_base, starred) ELSE starred END,
           labels = CASE WHEN NEW.location = 'trash' THEN coalesce(labels_base, labels) ELSE labels END,
           archived = CASE WHEN NEW.location = 'trash' THEN coalesce(archived_base, archived) ELSE archived END,
           comment = CASE WHEN NEW.location = 'trash' THEN comment_base ELSE comment END
     WHERE id = OLD.id AND NEW.location IS NOT OLD.location;
    DELETE FROM outbox
     WHERE op = 'delete' AND event_id = OLD.id AND NEW.location IS NOT OLD.location
       AND NEW.location IS NOT 'trash';
    INSERT INTO outbox (op, event_id, field, value, created_at, updated_at)
    SELECT 'delete', OLD.id, 'location', 'trash', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
     WHERE NEW.location = 'trash' AND OLD.location IS NOT 'trash'
       AND (SELECT location_base FROM mirror_events WHERE id = OLD.id) IS NOT 'trash';
END;

------------------------------------------------------------------------------------------------
-- events and the per-type views: as in part 5, with `archived` and `note` editable.
------------------------------------------------------------------------------------------------

CREATE VIEW events AS
SELECT e.id,                                        -- upstream's id; use it with `sipmirror event`
       e.kind,                                      -- call, fax, sms, voicemail
       e.created_utc AS created,                    -- UTC, YYYY-MM-DDTHH:MM:SS.sssZ
       coalesce(e.created_local, datetime(e.created_utc, 'localtime')) AS created_local,
                                                    -- local wall-clock time, YYYY-MM-DD HH:MM:SS
       e.direction,                                 -- incoming, outgoing, missed_incoming, missed_outgoing
       e.status,                                    -- failed, sent, pending, scheduled
       s.number_e164 AS from_number,                -- as upstream sent it (E.164 without +)
       s.number_key AS from_number_key,             -- normalized: joins contact_numbers.number_key
       coalesce((SELECT c.formatted_name
                   FROM mirror_contact_numbers n JOIN mirror_contacts c ON c.uuid = n.contact_uuid
                  WHERE n.number_key = s.number_key AND c.upstream_state = 'present'
                  ORDER BY c.formatted_name, c.uuid LIMIT 1),
                nullif(s.contact_fn, '')) AS from_name, -- the contact with that number, else upstream's name
       t.number_e164 AS to_number,                  -- as upstream sent it
       t.number_key AS to_number_key,               -- normalized
       coalesce((SELECT c.formatted_name
                   FROM mirror_contact_numbers n JOIN mirror_contacts c ON c.uuid = n.contact_uuid
                  WHERE n.number_key = t.number_key AND c.upstream_state = 'present'
                  ORDER BY c.formatted_name, c.uuid LIMIT 1),
                nullif(t.contact_fn, '')) AS to_name,   -- the same for the callee
       e.extension_id AS extension,                 -- the internal endpoint, e.g. e0
       e.extension_alias,                           -- its name
       e.comment,                                   -- a note upstream keeps with the event
       e.read,                                      -- editable: 0/1
       e.starred,                                   -- editable: 0/1
       e.labels,                                    -- editable (classic): comma-separated, '' = none
       e.location,                                  -- editable: only to 'trash'
       CASE e.upstream_state WHEN 'deleted' THEN 1 ELSE 0 END AS gone_upstream, -- 1: no longer upstream
       EXISTS (SELECT 1 FROM outbox o WHERE o.event_id = e.id) AS edit_pending, -- 1: a local edit waits for push
       e.archived,                                  -- editable (v2): 0/1, in the archive
       e.comment AS note                            -- editable (v2): the event's note (v2 `note`, classic `comment`)
FROM mirror_events e
LEFT JOIN mirror_event_endpoints s ON s.event_id = e.id AND s.role = 'source' AND s.position = 0
LEFT JOIN mirror_event_endpoints t ON t.event_id = e.id AND t.role = 'target' AND t.position = 0;

-- Calls. `missed` is 1 for missed_incoming and missed_outgoing.
CREATE VIEW calls AS
SELECT ev.*,
       c.duration_s,                                -- talk time in seconds, when upstream says
       CASE WHEN ev.direction LIKE 'missed%' THEN 1 ELSE 0 END AS missed,
       (SELECT count(*) FROM mirror_call_recordings r WHERE r.event_id = ev.id) AS recordings -- how many
FROM events ev JOIN mirror_calls c ON c.event_id = ev.id;

-- Faxes, sent and received.
CREATE VIEW faxes AS
SELECT ev.*,
       f.page_count,
       f.sent_upstream AS sent,                     -- when it was sent, as upstream wrote it
       f.fail_reason,                               -- why sending failed, if it did
       f.content_url,                               -- the document upstream (PDF)
       (SELECT (SELECT value FROM sync_meta WHERE key = 'media_dir') || '/' || m.path
          FROM media_files m WHERE m.event_id = ev.id AND m.kind = 'fax_document') AS media_path
                                                    -- the downloaded document (sync --media)
FROM events ev JOIN mirror_faxes f ON f.event_id = ev.id;

-- SMS, sent and received.
CREATE VIEW sms AS
SELECT ev.*,
       m.sent_upstream AS sent,
       m.text                                       -- the message
FROM events ev JOIN mirror_sms m ON m.event_id = ev.id;

-- Voicemails.
CREATE VIEW voicemails AS
SELECT ev.*,
       v.duration_s,                                -- length of the recording in seconds
       v.transcription,
       v.content_url,                               -- the recording upstream
       (SELECT (SELECT value FROM sync_meta WHERE key = 'media_dir') || '/' || m.path
          FROM media_files m WHERE m.event_id = ev.id AND m.kind = 'voicemail_audio') AS media_path
                                                    -- the downloaded recording (sync --media)
FROM events ev JOIN mirror_voicemails v ON v.event_id = ev.id;

-- The views above pass edits on to event_flags. Their read-only triggers name every column
-- except the four editable ones (a test checks the lists against the views).

CREATE TRIGGER events_no_insert INSTEAD OF INSERT ON events
BEGIN SELECT RAISE(ABORT, 'sipmirror: events cannot be inserted; they come from upstream'); END;
CREATE TRIGGER events_delete INSTEAD OF DELETE ON events
BEGIN UPDATE event_flags SET location = 'trash' WHERE id = OLD.id; END;
CREATE TRIGGER events_edit INSTEAD OF UPDATE OF read, starred, labels, location, archived, note ON events
BEGIN
    UPDATE event_flags SET read = NEW.read, starred = NEW.starred, labels = NEW.labels,
                           location = NEW.location, archived = NEW.archived, note = NEW.note
     WHERE id = OLD.id;
END;
CREATE TRIGGER events_read_only INSTEAD OF UPDATE OF
    id, kind, created, created_local, direction, status, from_number, from_number_key, from_name,
    to_number, to_number_key, to_name, extension, extension_alias, comment, gone_upstream, edit_pending ON events
BEGIN SELECT RAISE(ABORT, 'sipmirror: only read, starred, labels, location, archived and note can be changed'); END;

CREATE TRIGGER calls_no_insert INSTEAD OF INSERT ON calls
BEGIN SELECT RAISE(ABORT, 'sipmirror: events cannot be inserted; they come from upstream'); END;
CREATE TRIGGER calls_delete INSTEAD OF DELETE ON calls
BEGIN UPDATE event_flags SET location = 'trash' WHERE id = OLD.id; END;
CREATE TRIGGER calls_edit INSTEAD OF UPDATE OF read, starred, labels, location, archived, note ON calls
BEGIN
    UPDATE event_flags SET read = NEW.read, starred = NEW.starred, labels = NEW.labels,
                           location = NEW.location, archived = NEW.archived, note = NEW.note
     WHERE id = OLD.id;
END;
CREATE TRIGGER calls_read_only INSTEAD OF UPDATE OF
    id, kind, created, created_local, direction, status, from_number, from_number_key, from_name,
    to_number, to_number_key, to_name, extension, extension_alias, comment, gone_upstream, edit_pending,
    duration_s, missed, recordings ON calls
BEGIN SELECT RAISE(ABORT, 'sipmirror: only read, starred, labels, location, archived and note can be changed'); END;

CREATE TRIGGER faxes_no_insert INSTEAD OF INSERT ON faxes
BEGIN SELECT RAISE(ABORT, 'sipmirror: events cannot be inserted; use `sipmirror send fax`'); END;
CREATE TRIGGER faxes_delete INSTEAD OF DELETE ON faxes
BEGIN UPDATE event_flags SET location = 'trash' WHERE id = OLD.id; END;
CREATE TRIGGER faxes_edit INSTEAD OF UPDATE OF read, starred, labels, location, archived, note ON faxes
BEGIN
    UPDATE event_flags SET read = NEW.read, starred = NEW.starred, labels = NEW.labels,
                           location = NEW.location, archived = NEW.archived, note = NEW.note
     WHERE id = OLD.id;
END;
CREATE TRIGGER faxes_read_only INSTEAD OF UPDATE OF
    id, kind, created, created_local, direction, status, from_number, from_number_key, from_name,
    to_number, to_number_key, to_name, extension, extension_alias, comment, gone_upstream, edit_pending,
    page_count, sent, fail_reason, content_url, media_path ON faxes
BEGIN SELECT RAISE(ABORT, 'sipmirror: only read, starred, labels, location, archived and note can be changed'); END;

CREATE TRIGGER sms_no_insert INSTEAD OF INSERT ON sms
BEGIN SELECT RAISE(ABORT, 'sipmirror: events cannot be inserted; use `sipmirror send sms`'); END;
CREATE TRIGGER sms_delete INSTEAD OF DELETE ON sms
BEGIN UPDATE event_flags SET location = 'trash' WHERE id = OLD.id; END;
CREATE TRIGGER sms_edit INSTEAD OF UPDATE OF read, starred, labels, location, archived, note ON sms
BEGIN
    UPDATE event_flags SET read = NEW.read, starred = NEW.starred, labels = NEW.labels,
                           location = NEW.location, archived = NEW.archived, note = NEW.note
     WHERE id = OLD.id;
END;
CREATE TRIGGER sms_read_only INSTEAD OF UPDATE OF
    id, kind, created, created_local, direction, status, from_number, from_number_key, from_name,
    to_number, to_number_key, to_name, extension, extension_alias, comment, gone_upstream, edit_pending,
    sent, text ON sms
BEGIN SELECT RAISE(ABORT, 'sipmirror: only read, starred, labels, location, archived and note can be changed'); END;

CREATE TRIGGER voicemails_no_insert INSTEAD OF INSERT ON voicemails
BEGIN SELECT RAISE(ABORT, 'sipmirror: events cannot be inserted; they come from upstream'); END;
CREATE TRIGGER voicemails_delete INSTEAD OF DELETE ON voicemails
BEGIN UPDATE event_flags SET location = 'trash' WHERE id = OLD.id; END;
CREATE TRIGGER voicemails_edit INSTEAD OF UPDATE OF read, starred, labels, location, archived, note ON voicemails
BEGIN
    UPDATE event_flags SET read = NEW.read, starred = NEW.starred, labels = NEW.labels,
                           location = NEW.location, archived = NEW.archived, note = NEW.note
     WHERE id = OLD.id;
END;
CREATE TRIGGER voicemails_read_only INSTEAD OF UPDATE OF
    id, kind, created, created_local, direction, status, from_number, from_number_key, from_name,
    to_number, to_number_key, to_name, extension, extension_alias, comment, gone_upstream, edit_pending,
    duration_s, transcription, content_url, media_path ON voicemails
BEGIN SELECT RAISE(ABORT, 'sipmirror: only read, starred, labels, location, archived and note can be changed'); END;


------------------------------------------------------------------------------------------------
-- sends: as in part 3, with what upstream last said of a sent message.
------------------------------------------------------------------------------------------------

-- Every SMS and fax queued with `sipmirror send`: those waiting in the outbox (state
-- 'pending', 'in_flight' or 'failed') and those already sent (state 'sent', with the upstream
-- event id; the event itself shows up in `sms`/`faxes` after the next sync) or dropped.
-- `upstream_status` is the sent message's status in the mirror (failed, sent, pending,
-- scheduled), and `fax_status` a fax's v2 `faxStatusType` (PENDING, SENDING, SENT, FAILED,
-- SCHEDULED); the sync and `send fax --wait` keep both current.
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
       NULL                                         AS closed_at,
       NULL                                         AS upstream_status,
       NULL                                         AS fax_status
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
       l.closed_at,
       (SELECT e.status FROM mirror_events e WHERE e.id = l.upstream_event_id),
       (SELECT f.status_type FROM mirror_faxes f WHERE f.event_id = l.upstream_event_id)
FROM outbox_log l
WHERE l.op IN ('send_sms', 'send_fax');
