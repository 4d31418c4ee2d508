-- title: Unheard voicemails
-- Voicemails not yet marked read (and not in the trash), newest first, with the caller and the
-- transcription. Mark one heard with `sipmirror event read ID`.
SELECT id,
       created_local AS received,
       coalesce(from_name, from_number, '(unknown)') AS caller,
       from_number AS number,
       duration_s AS seconds,
       transcription
FROM voicemails
WHERE read = 0 AND location <> 'trash' AND gone_upstream = 0
ORDER BY created DESC;
