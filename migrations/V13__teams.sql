-- sipmirror schema, part 13: who an event belongs to, for teams.
--
-- An organisation's token sees every user's calls. v2 says with each event which extensions
-- it touched (`connectionIds`: a user's device or phoneline, a group, a fax line); the settings
-- say which user each of those belongs to. Classic events name the one extension that handled
-- them. The `event_extensions` view joins the two, so that reports can count per user, per line
-- and per group.

-- The user whose list an extension came from (v2 `/{userId}/devices`, `/phonelines`,
-- `/faxlines`, `/sms`); NULL for account-wide extensions (groups, voicemail boxes) and for the
-- classic API, whose extensions are all the logged-in user's.
ALTER TABLE mirror_extensions ADD COLUMN user_id TEXT;         -- w0, the owner (v2)

-- The team reports read the events of a period with their extensions; the reports' index gets
-- the extension columns, so that they never touch the (wide) rows.
DROP INDEX mirror_events_kind_created;
CREATE INDEX mirror_events_kind_created ON mirror_events
    (kind, created_utc, direction, status, created_local, extension_id, read, location,
     connection_ids, upstream_state);

-- One row per event and extension it touched: v2's `connectionIds` (a call that came in
-- through a group and was answered on a device has two rows), else the classic extension; an
-- event no extension is known for has one row with `extension_id` NULL. `user_name` is the
-- owner's name, else NULL. (One SELECT over mirror_events, without a union, so that SQLite
-- folds the view into a query that joins it and reads only the events that query asks for.)
CREATE VIEW event_extensions AS
SELECT e.id AS event_id,                             -- events.id
       e.kind,                                       -- call, fax, sms, voicemail
       e.created_utc AS created,                     -- as in events
       e.created_local,                              -- as in events
       e.direction,                                  -- as in events
       nullif(trim(j.value), '') AS extension_id,    -- e0, p0, g0, f0 ...; NULL: not known
       x.type AS extension_type,                     -- register, phoneline, group, fax, sms, voicemail, external
       coalesce(x.alias, nullif(trim(j.value), '')) AS extension_alias, -- its name, else its id
       x.user_id,                                    -- the owner (v2), else NULL
       nullif(trim(coalesce(u.first_name, '') || ' ' || coalesce(u.last_name, '')), '')
           AS user_name                              -- the owner's name, else NULL
  FROM mirror_events e
  JOIN json_each(CASE
           WHEN coalesce(e.connection_ids, '') <> ''
                AND json_valid('["' || replace(e.connection_ids, ',', '","') || '"]')
               THEN '["' || replace(e.connection_ids, ',', '","') || '"]'
           WHEN coalesce(e.extension_id, '') <> '' THEN json_array(e.extension_id)
           ELSE '[null]' END) j
  LEFT JOIN mirror_extensions x ON x.extension_id = trim(j.value)
  LEFT JOIN mirror_users u ON u.user_id = x.user_id
 WHERE e.upstream_state = 'present';
