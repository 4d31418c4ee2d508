-- title: Search
-- Full-text search across SMS texts, voicemail transcriptions and contacts (names,
-- organisations, numbers, e-mails). Case and accents do not matter; the words are matched as a
-- phrase. Newest messages first, then contacts.
-- param: q (text, required): the words to look for
-- param: limit (integer, default 50): the most rows of each kind
WITH phrase AS (SELECT '"' || replace(coalesce(:q, ''), '"', '""') || '"' AS match),
messages AS (
    SELECT m.rowid AS id
    FROM search_messages m, phrase
    WHERE search_messages MATCH phrase.match AND phrase.match <> '""'
    ORDER BY m.rowid DESC
    LIMIT coalesce(:limit, 50)
),
people AS (
    SELECT c.rowid AS id
    FROM search_contacts c, phrase
    WHERE search_contacts MATCH phrase.match AND phrase.match <> '""'
    LIMIT coalesce(:limit, 50)
)
SELECT * FROM (
    SELECT e.kind AS kind,
           e.created_local AS at,
           coalesce(e.from_name, e.from_number) AS who,
           coalesce(s.text, v.transcription) AS text,
           e.id AS ref
    FROM messages
    JOIN events e ON e.id = messages.id
    LEFT JOIN mirror_sms s ON s.event_id = e.id
    LEFT JOIN mirror_voicemails v ON v.event_id = e.id
    ORDER BY e.id DESC
)
UNION ALL
SELECT * FROM (
    SELECT 'contact', NULL, c.formatted_name, c.organization, c.uuid
    FROM people
    JOIN mirror_contacts c ON c.rowid = people.id
    ORDER BY c.formatted_name
);
