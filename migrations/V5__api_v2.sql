-- sipmirror schema, part 5: sipgate's REST API v2 beside the classic API.
--
-- A mirror is fed by one of two dialects of sipgate's API, recorded in `sync_meta.api`: v2
-- (api.sipgate.com/v2, what accounts use today) or classic (api.sipgate.net, the API this
-- project started from). Both fill the same tables and views; a column only one dialect knows
-- is NULL for the other. Where the public columns come from:
--
--   column            classic                              v2
--   id                `id` (digits)                        `id` (digits; other ids: see upstream_id)
--   created           `created` (with milliseconds)        `created` (whole seconds)
--   direction         `direction`                          `direction`, lower case
--   status            `status`                             faxes: `faxStatusType` (SENDING = pending);
--                                                          outgoing SMS: sent / scheduled; else NULL
--   from_/to_number   `sources[0]` / `targets[0]`          `source` / `target` without `+`
--   from_/to_name     the contact, else `contactFN`        the contact, else `sourceAlias` / `targetAlias`
--   extension         `extension.id`                       `connectionIds[0]`
--   extension_alias   `extension.alias`                    NULL (mirror_extensions has the alias)
--   note (comment)    `comment`                            `note`
--   read, starred     `read.value`, `starred.value`        `read`, `starred`
--   labels            `labels.value`                       `labels`, joined with commas
--   location          `location`                           archive when `archived`, else sent for
--                                                          outgoing, inbox for incoming (v2 has no trash)
--   archived          location = 'archive'                 `archived`
--   calls.duration_s  `duration`                           `duration` (rounded to whole seconds)
--   calls.recordings  `recordings[]`                       `recordings[]`
--   faxes.page_count  `pageCount`                          `pageCount`
--   faxes.sent        `sent`                               NULL
--   faxes.fail_reason `failReason`                         NULL
--   faxes.content_url `content`                            `documentUrl`
--   sms.text          `text`                               `smsContent`
--   voicemails.*      `duration`, `transcription`, `content` `duration`, `transcription`, `recordingUrl`
--   contacts.name     FN, else N, else ORG                 `name`, else the organization
--   family/given_name N                                    NULL (v2 does not send them)
--   contact_numbers   TEL entries                          `numbers[]` (as TEL entries)
--
-- Settings: v2's devices, phonelines, fax lines, SMS extensions, voicemail boxes and groups are
-- rows of mirror_extensions (`type` says which); `/numbers` fills mirror_numbers.

-- Events: what v2 says beyond the classic fields.
-- v2 ids are strings. Every id seen is digits, and such an id is stored as the integer `id`, as
-- the classic API's are. An id that is not a plain integer gets a stable negative `id` derived
-- from it, and the id itself is kept here so that nothing upstream sends is dropped.
ALTER TABLE mirror_events ADD COLUMN upstream_id TEXT;
CREATE UNIQUE INDEX mirror_events_upstream_id ON mirror_events (upstream_id)
    WHERE upstream_id IS NOT NULL;
-- v2 `lastModified`, as sent (classic: NULL).
ALTER TABLE mirror_events ADD COLUMN last_modified_upstream TEXT;
-- v2 `status` of the connection: NOPICKUP, BUSY, PICKUP, FORWARD. (The classic `status`
-- column keeps its meaning: failed, sent, pending, scheduled for SMS and faxes.)
ALTER TABLE mirror_events ADD COLUMN connection_status TEXT;
-- v2 `connectionIds`: the extensions involved, comma-separated (p0,f0) (classic: NULL).
ALTER TABLE mirror_events ADD COLUMN connection_ids TEXT;
-- v2 `endpoints`: how the event was routed, as upstream sent them (JSON array of
-- {"type": ROUTED|FORWARDED|PICKUP, "endpoint": {"extension", "type"}}) (classic: NULL).
ALTER TABLE mirror_events ADD COLUMN routing_json TEXT;

-- v2 `callStatus`: SUCCESS, FAILURE, REJECTED, REJECTED_DND, VOICEMAIL_NO_MESSAGE,
-- BUSY_ON_BUSY, BUSY, MISSED.
ALTER TABLE mirror_calls ADD COLUMN call_status TEXT;
-- v2 `faxStatusType` (PENDING, SENDING, SENT, FAILED, SCHEDULED) and `reportUrl`.
ALTER TABLE mirror_faxes ADD COLUMN status_type TEXT;
ALTER TABLE mirror_faxes ADD COLUMN report_url TEXT;

-- Contacts: v2 `scope` (PRIVATE, SHARED, INTERNAL). The picture is a PHOTO entry.
ALTER TABLE mirror_contacts ADD COLUMN scope TEXT;

-- The balance, exact: v2 sends an integer in 1/10,000 of the currency (123400 = 12.34 EUR).
-- `total_including_vat` is filled from it too, for the classic reports.
ALTER TABLE mirror_balance ADD COLUMN amount_units INTEGER;
ALTER TABLE mirror_balance_history ADD COLUMN amount_units INTEGER;

-- The account (v2 `/account`).
ALTER TABLE mirror_account ADD COLUMN company TEXT;
ALTER TABLE mirror_account ADD COLUMN history_lifetime TEXT; -- NONE, THIRTY_DAYS, UNLIMITED
ALTER TABLE mirror_account ADD COLUMN verified INTEGER;

-- The account's users (v2 `/users`).
CREATE TABLE mirror_users (
    user_id        TEXT PRIMARY KEY,                -- w0
    first_name     TEXT,
    last_name      TEXT,
    email          TEXT,
    default_device TEXT,                            -- e0
    admin          INTEGER,
    timezone       TEXT,
    updated_at     TEXT NOT NULL,
    raw_json       TEXT NOT NULL
) STRICT;

-- Call forwardings of each phoneline (v2 `/{userId}/phonelines/{id}/forwardings`).
CREATE TABLE mirror_forwardings (
    extension_id TEXT NOT NULL,                     -- the phoneline, p0
    position     INTEGER NOT NULL,
    destination  TEXT,
    timeout_s    INTEGER,
    active       INTEGER,
    alias        TEXT,
    updated_at   TEXT NOT NULL,
    PRIMARY KEY (extension_id, position)
) STRICT, WITHOUT ROWID;

-- Local edits reach upstream through the outbox. Writing them back through v2 is not built yet,
-- so on a mirror fed by v2 (sync_meta.api) nothing enters the outbox: an edit made with the CLI
-- or with SQL on the views is refused at once, rather than queued and never sent.
CREATE TRIGGER outbox_not_through_v2 BEFORE INSERT ON outbox
WHEN (SELECT value FROM sync_meta WHERE key = 'api') = 'v2'
BEGIN
    SELECT RAISE(ABORT, 'sipmirror: this mirror is fed by sipgate''s API v2, and writing edits back through v2 is not built yet; the mirror shows what upstream has');
END;

-- The event views gain `archived` and `note` at the end; everything else is as in part 2.
DROP VIEW events;
DROP VIEW calls;
DROP VIEW faxes;
DROP VIEW sms;
DROP VIEW voicemails;

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
       EXISTS (SELECT 1 FROM outbox o WHERE o.event_id = e.id) AS edit_pending, -- 1: a local edit waits for push
       CASE e.location WHEN 'archive' THEN 1 ELSE 0 END AS archived, -- 1: in the archive (v2: archived)
       e.comment AS note                            -- the event's note (v2 `note`, classic `comment`)
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
    to_number, to_number_key, to_name, extension, extension_alias, comment, gone_upstream, edit_pending, archived, note ON events
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
    to_number, to_number_key, to_name, extension, extension_alias, comment, gone_upstream, edit_pending, archived, note,
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
    to_number, to_number_key, to_name, extension, extension_alias, comment, gone_upstream, edit_pending, archived, note,
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
    to_number, to_number_key, to_name, extension, extension_alias, comment, gone_upstream, edit_pending, archived, note,
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
    to_number, to_number_key, to_name, extension, extension_alias, comment, gone_upstream, edit_pending, archived, note,
    duration_s, transcription, content_url, media_path ON voicemails
BEGIN SELECT RAISE(ABORT, 'sipmirror: only read, starred, labels and location can be changed'); END;


-- The current balance, exactly: `amount` is text with four decimals ('12.3400') when v2 sent
-- it (integer units, no float on the way), else the classic total as sent, with two.
CREATE VIEW balance AS
SELECT currency,                                    -- EUR
       CASE WHEN amount_units IS NOT NULL
            THEN CASE WHEN amount_units < 0 THEN '-' ELSE '' END
                 || (abs(amount_units) / 10000) || '.'
                 || substr('0000' || (abs(amount_units) % 10000), -4)
            ELSE printf('%.2f', total_including_vat)
       END AS amount,                               -- the amount in the currency, as text
       amount_units,                                -- v2: 1/10,000 of the currency (classic: NULL)
       vat_percent,                                 -- classic only
       updated_at                                   -- when the sync last read it
FROM mirror_balance;
