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

-- One row per event and extension it touched: v2's `connectionIds` (a call ringing a group and
-- answered on a device has two rows), else the classic extension. Events no extension is known
-- for have no row. `user_name` is the owner's name, else NULL.
CREATE VIEW event_extensions AS
WITH touched AS (
    SELECT e.id AS event_id, trim(j.value) AS extension_id
      FROM mirror_events e,
           json_each(CASE WHEN json_valid('["' || replace(e.connection_ids, ',', '","') || '"]')
                          THEN '["' || replace(e.connection_ids, ',', '","') || '"]'
                          ELSE '[]' END) j
     WHERE e.connection_ids IS NOT NULL AND e.connection_ids <> ''
       AND e.upstream_state = 'present'
    UNION
    SELECT e.id, e.extension_id
      FROM mirror_events e
     WHERE (e.connection_ids IS NULL OR e.connection_ids = '')
       AND e.extension_id IS NOT NULL AND e.extension_id <> ''
       AND e.upstream_state = 'present'
)
SELECT t.event_id,                                   -- events.id
       t.extension_id,                               -- e0, p0, g0, f0 ...
       x.type AS extension_type,                     -- register, phoneline, group, fax, sms, voicemail, external
       coalesce(x.alias, t.extension_id) AS extension_alias, -- its name, else its id
       x.user_id,                                    -- the owner (v2), else NULL
       nullif(trim(coalesce(u.first_name, '') || ' ' || coalesce(u.last_name, '')), '')
           AS user_name                              -- the owner's name, else NULL
  FROM touched t
  LEFT JOIN mirror_extensions x ON x.extension_id = t.extension_id
  LEFT JOIN mirror_users u ON u.user_id = x.user_id
 WHERE t.extension_id <> '';
