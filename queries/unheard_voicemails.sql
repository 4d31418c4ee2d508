-- title: Unheard voicemails
-- The newest voicemails not yet marked read (and not in the trash), with the caller and the
-- transcription. Mark one heard with `sipmirror event read ID`.
-- param: limit (integer, default 100): how many
WITH unheard AS (
    SELECT id FROM mirror_events
    WHERE kind = 'voicemail' AND read = 0 AND location IS NOT 'trash' AND upstream_state = 'present'
    ORDER BY created_utc DESC
    LIMIT coalesce(:limit, 100)
)
SELECT v.id,
       v.created_local AS received,
       coalesce(v.from_name, v.from_number, '(unknown)') AS caller,
       v.from_number AS number,
       v.duration_s AS seconds,
       v.transcription
FROM unheard JOIN voicemails v ON v.id = unheard.id
ORDER BY v.created DESC;
