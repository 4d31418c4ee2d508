-- sipmirror mirror schema, version 2: the public views, local edits and full-text search.
--
-- People read and edit the mirror through these views, in any SQLite client (the stock
-- `sqlite3` shell of Debian 12, SQLite 3.40, included): no custom SQL functions are needed.
-- Their names and columns are stable; the `mirror_*` tables behind them may change.
--
--   events        every event, with the first caller/callee and their names
--   calls, faxes, sms, voicemails
--                 `events` plus the columns of that type
--   event_flags   the four editable fields of every event, and nothing else
--   contacts      every contact with its primary number and e-mail
--   contact_numbers
--                 every number of every contact
--   search_messages, search_contacts
--                 full-text indexes (FTS5): SMS texts and voicemail transcriptions; contact
--                 names, organisations, numbers and e-mails
--
-- Editing. In each of these views the columns `read`, `starred`, `labels` and `location` can
-- be changed with UPDATE, and `DELETE FROM <view>` moves events to the trash upstream:
--
--   UPDATE voicemails SET read = 1 WHERE created < '2026-01-01';
--   UPDATE events SET labels = 'todo,urgent' WHERE id = 12345;
--   UPDATE faxes SET location = 'trash' WHERE status = 'failed';   -- same as DELETE FROM faxes ...
--
-- Such an edit is a local edit exactly like `sipmirror event ...`: the view shows the new value
-- at once, and the same transaction puts the target value into `outbox`, which `sipmirror push`
-- (and every `sipmirror sync`) replays upstream. The rules, all enforced by the triggers below:
--
-- * read and starred take 0 or 1 (TRUE/FALSE work too).
-- * labels is the whole comma-separated list and replaces the old one: 'todo,urgent', or ''
--   for none. No empty entries, no spaces around the commas, no control characters.
-- * location can only become 'trash' (the API has no other move). Setting it back to its
--   upstream value while the delete is still waiting cancels the delete.
-- * One outbox entry per event and field holds the target value: a second edit replaces it,
--   an edit back to the value upstream has removes it. Trashing an event drops its waiting
--   field edits (those fields show the upstream values again).
-- * Events that are gone upstream (`gone_upstream` = 1) cannot be edited.
-- * Every other column is read-only; changing one aborts the statement and changes nothing.
-- * INSERT is refused: events come from upstream (`sipmirror send` queues new SMS and faxes).
--
-- `event_flags` holds the editing logic; the other views pass their edits on to it, so every
-- path (the CLI, a view, a script) goes through the same triggers.

-- The views ask "does this event have a waiting edit?" by event id alone.
CREATE INDEX outbox_event ON outbox (event_id);

-- Reports read events of one type in a time window; this index holds every column they filter
-- and group by, so they never touch the (wide) rows. It replaces the narrower (kind, created).
DROP INDEX mirror_events_kind_created;

-- The event's creation time as a wall-clock time in the configured time zone (`timezone` in
-- the config file, else the system's), 'YYYY-MM-DD HH:MM:SS'. Written by the sync; when the
-- time zone changes, the next sync rewrites the column (see sync_meta). NULL only in a mirror
-- not yet synced by a version that knows it; the views fall back to the reading machine's zone.
ALTER TABLE mirror_events ADD COLUMN created_local TEXT;

CREATE INDEX mirror_events_kind_created ON mirror_events
    (kind, created_utc, direction, status, created_local, extension_id, read, location);

-- Labelled events, by their label list (for counts per label).
CREATE INDEX mirror_events_labels ON mirror_events (labels, kind, read) WHERE labels <> '';

-- Small facts about the mirror as a whole, as key/value pairs.
--   timezone       the IANA zone `mirror_events.created_local` is written in, e.g. Europe/Berlin
--   country_code   the country of national numbers (`country_code` in the config), e.g. 49
--   media_dir      the folder `media_files.path` is relative to
CREATE TABLE sync_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

------------------------------------------------------------------------------------------------
-- event_flags: the editable core.
------------------------------------------------------------------------------------------------

-- The editable fields of every event; the other views pass their edits on to this one.
CREATE VIEW event_flags AS
SELECT id,
       kind,                                        -- call, fax, sms, voicemail
       read,                                        -- 0/1, as shown (local edits included)
       starred,                                     -- 0/1
       labels,                                      -- comma-separated; '' = none
       location,                                    -- inbox, sent, archive, trash
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
    SELECT RAISE(ABORT, 'sipmirror: only read, starred, labels and location can be changed');
END;

CREATE TRIGGER event_flags_edit INSTEAD OF UPDATE OF read, starred, labels, location ON event_flags
BEGIN
    -- Checks first: a failed check aborts the whole statement, so nothing changes.
    SELECT RAISE(ABORT, 'sipmirror: this event is gone upstream and cannot be edited')
     WHERE OLD.gone_upstream = 1
       AND (NEW.read IS NOT OLD.read OR NEW.starred IS NOT OLD.starred
            OR NEW.labels IS NOT OLD.labels OR NEW.location IS NOT OLD.location);
    SELECT RAISE(ABORT, 'sipmirror: read must be 0 or 1')
     WHERE NEW.read IS NOT OLD.read
       AND (typeof(NEW.read) <> 'integer' OR NEW.read NOT IN (0, 1));
    SELECT RAISE(ABORT, 'sipmirror: starred must be 0 or 1')
     WHERE NEW.starred IS NOT OLD.starred
       AND (typeof(NEW.starred) <> 'integer' OR NEW.starred NOT IN (0, 1));
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
    SELECT 'set', OLD.id, 'read', NEW.read, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
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
    SELECT 'set', OLD.id, 'starred', NEW.starred, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
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
    SELECT 'set', OLD.id, 'labels', NEW.labels, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
     WHERE NEW.labels IS NOT OLD.labels
       AND NEW.labels IS NOT (SELECT labels_base FROM mirror_events WHERE id = OLD.id)
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
           labels = CASE WHEN NEW.location = 'trash' THEN coalesce(labels_base, labels) ELSE labels END
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
-- events and the per-type views.
------------------------------------------------------------------------------------------------

-- A caller's or callee's name: the mirror's contact with that number (by the normalized
-- number, so 030 123 and +49 30 123 match), else the name upstream gave with the event.
-- When several contacts share a number, the first by name wins.

-- Every event. `from_*` is the first source (the caller), `to_*` the first target (the callee).
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
       e.labels,                                    -- editable: comma-separated, '' = none
       e.location,                                  -- editable: only to 'trash'
       CASE e.upstream_state WHEN 'deleted' THEN 1 ELSE 0 END AS gone_upstream, -- 1: no longer upstream
       EXISTS (SELECT 1 FROM outbox o WHERE o.event_id = e.id) AS edit_pending -- 1: a local edit waits for push
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
CREATE TRIGGER events_edit INSTEAD OF UPDATE OF read, starred, labels, location ON events
BEGIN
    UPDATE event_flags SET read = NEW.read, starred = NEW.starred, labels = NEW.labels,
                           location = NEW.location WHERE id = OLD.id;
END;
CREATE TRIGGER events_read_only INSTEAD OF UPDATE OF
    id, kind, created, created_local, direction, status, from_number, from_number_key, from_name,
    to_number, to_number_key, to_name, extension, extension_alias, comment, gone_upstream, edit_pending ON events
BEGIN SELECT RAISE(ABORT, 'sipmirror: only read, starred, labels and location can be changed'); END;

CREATE TRIGGER calls_no_insert INSTEAD OF INSERT ON calls
BEGIN SELECT RAISE(ABORT, 'sipmirror: events cannot be inserted; they come from upstream'); END;
CREATE TRIGGER calls_delete INSTEAD OF DELETE ON calls
BEGIN UPDATE event_flags SET location = 'trash' WHERE id = OLD.id; END;
CREATE TRIGGER calls_edit INSTEAD OF UPDATE OF read, starred, labels, location ON calls
BEGIN
    UPDATE event_flags SET read = NEW.read, starred = NEW.starred, labels = NEW.labels,
                           location = NEW.location WHERE id = OLD.id;
END;
CREATE TRIGGER calls_read_only INSTEAD OF UPDATE OF
    id, kind, created, created_local, direction, status, from_number, from_number_key, from_name,
    to_number, to_number_key, to_name, extension, extension_alias, comment, gone_upstream, edit_pending,
    duration_s, missed, recordings ON calls
BEGIN SELECT RAISE(ABORT, 'sipmirror: only read, starred, labels and location can be changed'); END;

CREATE TRIGGER faxes_no_insert INSTEAD OF INSERT ON faxes
BEGIN SELECT RAISE(ABORT, 'sipmirror: events cannot be inserted; use `sipmirror send fax`'); END;
CREATE TRIGGER faxes_delete INSTEAD OF DELETE ON faxes
BEGIN UPDATE event_flags SET location = 'trash' WHERE id = OLD.id; END;
CREATE TRIGGER faxes_edit INSTEAD OF UPDATE OF read, starred, labels, location ON faxes
BEGIN
    UPDATE event_flags SET read = NEW.read, starred = NEW.starred, labels = NEW.labels,
                           location = NEW.location WHERE id = OLD.id;
END;
CREATE TRIGGER faxes_read_only INSTEAD OF UPDATE OF
    id, kind, created, created_local, direction, status, from_number, from_number_key, from_name,
    to_number, to_number_key, to_name, extension, extension_alias, comment, gone_upstream, edit_pending,
    page_count, sent, fail_reason, content_url, media_path ON faxes
BEGIN SELECT RAISE(ABORT, 'sipmirror: only read, starred, labels and location can be changed'); END;

CREATE TRIGGER sms_no_insert INSTEAD OF INSERT ON sms
BEGIN SELECT RAISE(ABORT, 'sipmirror: events cannot be inserted; use `sipmirror send sms`'); END;
CREATE TRIGGER sms_delete INSTEAD OF DELETE ON sms
BEGIN UPDATE event_flags SET location = 'trash' WHERE id = OLD.id; END;
CREATE TRIGGER sms_edit INSTEAD OF UPDATE OF read, starred, labels, location ON sms
BEGIN
    UPDATE event_flags SET read = NEW.read, starred = NEW.starred, labels = NEW.labels,
                           location = NEW.location WHERE id = OLD.id;
END;
CREATE TRIGGER sms_read_only INSTEAD OF UPDATE OF
    id, kind, created, created_local, direction, status, from_number, from_number_key, from_name,
    to_number, to_number_key, to_name, extension, extension_alias, comment, gone_upstream, edit_pending,
    sent, text ON sms
BEGIN SELECT RAISE(ABORT, 'sipmirror: only read, starred, labels and location can be changed'); END;

CREATE TRIGGER voicemails_no_insert INSTEAD OF INSERT ON voicemails
BEGIN SELECT RAISE(ABORT, 'sipmirror: events cannot be inserted; they come from upstream'); END;
CREATE TRIGGER voicemails_delete INSTEAD OF DELETE ON voicemails
BEGIN UPDATE event_flags SET location = 'trash' WHERE id = OLD.id; END;
CREATE TRIGGER voicemails_edit INSTEAD OF UPDATE OF read, starred, labels, location ON voicemails
BEGIN
    UPDATE event_flags SET read = NEW.read, starred = NEW.starred, labels = NEW.labels,
                           location = NEW.location WHERE id = OLD.id;
END;
CREATE TRIGGER voicemails_read_only INSTEAD OF UPDATE OF
    id, kind, created, created_local, direction, status, from_number, from_number_key, from_name,
    to_number, to_number_key, to_name, extension, extension_alias, comment, gone_upstream, edit_pending,
    duration_s, transcription, content_url, media_path ON voicemails
BEGIN SELECT RAISE(ABORT, 'sipmirror: only read, starred, labels and location can be changed'); END;

------------------------------------------------------------------------------------------------
-- Contacts.
------------------------------------------------------------------------------------------------

-- Every contact. The primary number is the first TEL entry that is not a fax, else the first
-- fax number; the primary e-mail the first EMAIL entry.
CREATE VIEW contacts AS
SELECT c.uuid,                                      -- upstream's id of the contact
       c.formatted_name AS name,                    -- FN, or built from N / ORG
       c.family_name,
       c.given_name,
       c.organization,
       (SELECT e.value FROM mirror_contact_entries e
         WHERE e.contact_uuid = c.uuid AND e.entry_name = 'TEL'
         ORDER BY instr(e.types, 'FAX') > 0, e.position LIMIT 1) AS primary_number,
       (SELECT e.value FROM mirror_contact_entries e
         WHERE e.contact_uuid = c.uuid AND e.entry_name = 'EMAIL'
         ORDER BY e.position LIMIT 1) AS primary_email,
       (SELECT count(*) FROM mirror_contact_numbers n WHERE n.contact_uuid = c.uuid) AS number_count, -- phone numbers
       CASE c.upstream_state WHEN 'deleted' THEN 1 ELSE 0 END AS gone_upstream -- 1: no longer upstream
FROM mirror_contacts c;

-- Every phone number of every contact. `number_key` is the normalized form that matches
-- numbers however they were written (the join key to events' numbers).
CREATE VIEW contact_numbers AS
SELECT n.contact_uuid AS uuid,                      -- the contact
       c.formatted_name AS name,                    -- its name
       e.value AS number,                           -- as written in the contact
       e.local_value,                               -- in national format, when upstream gave it
       n.number_key,
       n.types,                                     -- comma-separated: WORK, HOME, CELL, FAX, ...
       n.position,                                  -- order within the contact
       CASE c.upstream_state WHEN 'deleted' THEN 1 ELSE 0 END AS gone_upstream -- 1: contact no longer upstream
FROM mirror_contact_numbers n
JOIN mirror_contacts c ON c.uuid = n.contact_uuid
JOIN mirror_contact_entries e ON e.contact_uuid = n.contact_uuid AND e.position = n.position;

------------------------------------------------------------------------------------------------
-- Full-text search (FTS5). Query with MATCH, e.g.
--   SELECT rowid, snippet(search_messages, 0, '[', ']', '…', 8) FROM search_messages
--    WHERE search_messages MATCH 'rückruf' ORDER BY rank;
-- Case and accents are ignored ('muller' finds 'Müller'); 'word*' matches prefixes.
------------------------------------------------------------------------------------------------

-- SMS texts and voicemail transcriptions; rowid = the event's id. Kept current by triggers on
-- the tables the sync writes.
CREATE VIRTUAL TABLE search_messages USING fts5(text, tokenize = 'unicode61 remove_diacritics 2');

INSERT INTO search_messages (rowid, text) SELECT event_id, text FROM mirror_sms WHERE text IS NOT NULL;
INSERT INTO search_messages (rowid, text)
SELECT event_id, transcription FROM mirror_voicemails WHERE transcription IS NOT NULL;

CREATE TRIGGER search_sms_insert AFTER INSERT ON mirror_sms WHEN NEW.text IS NOT NULL
BEGIN INSERT INTO search_messages (rowid, text) VALUES (NEW.event_id, NEW.text); END;
CREATE TRIGGER search_sms_update AFTER UPDATE OF text ON mirror_sms WHEN NEW.text IS NOT OLD.text
BEGIN
    DELETE FROM search_messages WHERE rowid = OLD.event_id;
    INSERT INTO search_messages (rowid, text) SELECT NEW.event_id, NEW.text WHERE NEW.text IS NOT NULL;
END;
CREATE TRIGGER search_sms_delete AFTER DELETE ON mirror_sms
BEGIN DELETE FROM search_messages WHERE rowid = OLD.event_id; END;

CREATE TRIGGER search_voicemail_insert AFTER INSERT ON mirror_voicemails WHEN NEW.transcription IS NOT NULL
BEGIN INSERT INTO search_messages (rowid, text) VALUES (NEW.event_id, NEW.transcription); END;
CREATE TRIGGER search_voicemail_update AFTER UPDATE OF transcription ON mirror_voicemails
WHEN NEW.transcription IS NOT OLD.transcription
BEGIN
    DELETE FROM search_messages WHERE rowid = OLD.event_id;
    INSERT INTO search_messages (rowid, text)
    SELECT NEW.event_id, NEW.transcription WHERE NEW.transcription IS NOT NULL;
END;
CREATE TRIGGER search_voicemail_delete AFTER DELETE ON mirror_voicemails
BEGIN DELETE FROM search_messages WHERE rowid = OLD.event_id; END;

-- Contacts: name, organisation, every number (as written, national and normalized) and every
-- e-mail; rowid = the rowid of mirror_contacts. The sync rewrites a contact's row whenever it
-- stores the contact (its entries are written after the contact row, so a trigger on
-- mirror_contacts would see none).
CREATE VIRTUAL TABLE search_contacts USING fts5(
    name, organization, numbers, emails, tokenize = 'unicode61 remove_diacritics 2');

INSERT INTO search_contacts (rowid, name, organization, numbers, emails)
SELECT c.rowid, c.formatted_name, c.organization,
       (SELECT group_concat(e.value || ' ' || coalesce(e.local_value, '') || ' ' || coalesce(n.number_key, ''), ' ')
          FROM mirror_contact_entries e
          LEFT JOIN mirror_contact_numbers n ON n.contact_uuid = e.contact_uuid AND n.position = e.position
         WHERE e.contact_uuid = c.uuid AND e.entry_name = 'TEL'),
       (SELECT group_concat(e.value, ' ') FROM mirror_contact_entries e
         WHERE e.contact_uuid = c.uuid AND e.entry_name = 'EMAIL')
FROM mirror_contacts c;

CREATE TRIGGER search_contacts_delete AFTER DELETE ON mirror_contacts
BEGIN DELETE FROM search_contacts WHERE rowid = OLD.rowid; END;
