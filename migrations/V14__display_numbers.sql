-- sipmirror schema, part 14: numbers shown as people write them.
--
-- The views' `from_number` and `to_number` showed the digits upstream sends (4930123456); they
-- show E.164 with a leading + (+4930123456), as the phone books, the vCards and the reports
-- write numbers. What is not a full international number (anonymous, a sender's name, a short
-- code) is shown as upstream sent it. The keys to join on (`from_number_key`,
-- `to_number_key`) and what the tables store are unchanged. The views are rebuilt, with their
-- triggers, otherwise as in part 7.

DROP VIEW voicemails;
DROP VIEW sms;
DROP VIEW faxes;
DROP VIEW calls;
DROP VIEW events;

CREATE VIEW events AS
SELECT e.id,                                        -- upstream's id; use it with `sipmirror event`
       e.kind,                                      -- call, fax, sms, voicemail
       e.created_utc AS created,                    -- UTC, YYYY-MM-DDTHH:MM:SS.sssZ
       coalesce(e.created_local, datetime(e.created_utc, 'localtime')) AS created_local,
                                                    -- local wall-clock time, YYYY-MM-DD HH:MM:SS
       e.direction,                                 -- incoming, outgoing, missed_incoming, missed_outgoing
       e.status,                                    -- failed, sent, pending, scheduled
       CASE WHEN s.number_e164 GLOB '[1-9]*' AND s.number_e164 NOT GLOB '*[^0-9]*' AND length(s.number_e164) >= 7
            THEN '+' || s.number_e164 ELSE s.number_e164 END AS from_number,
                                                    -- E.164 with + (+4930123456); else as upstream sent it
       s.number_key AS from_number_key,             -- normalized: joins contact_numbers.number_key
       coalesce((SELECT c.formatted_name
                   FROM mirror_contact_numbers n JOIN mirror_contacts c ON c.uuid = n.contact_uuid
                  WHERE n.number_key = s.number_key AND c.upstream_state = 'present'
                  ORDER BY c.formatted_name, c.uuid LIMIT 1),
                nullif(s.contact_fn, '')) AS from_name, -- the contact with that number, else upstream's name
       CASE WHEN t.number_e164 GLOB '[1-9]*' AND t.number_e164 NOT GLOB '*[^0-9]*' AND length(t.number_e164) >= 7
            THEN '+' || t.number_e164 ELSE t.number_e164 END AS to_number,
                                                    -- the same for the callee
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
