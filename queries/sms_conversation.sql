-- title: SMS conversation
-- The SMS to and from one person, oldest first (the newest `limit` of them): give a number in
-- any common form (+49 30 1234567, 030/1234567, 004930...) or a contact's name or part of it.
-- param: with (text, required): a number or a name
-- param: limit (integer, default 200): the most messages shown
WITH wanted AS (
    SELECT coalesce(:with, '') AS text,
           ltrim(replace(replace(replace(replace(replace(replace(replace(coalesce(:with, ''),
               ' ', ''), '-', ''), '/', ''), '(', ''), ')', ''), '.', ''), '+', ''), '0') AS digits
),
numbers (number_key) AS (
    -- As written (international), or national with the mirror's country code in front.
    SELECT digits FROM wanted WHERE length(digits) >= 3 AND digits NOT GLOB '*[^0-9]*'
    UNION
    SELECT coalesce((SELECT value FROM sync_meta WHERE key = 'country_code'), '49') || digits
    FROM wanted
    WHERE length(digits) >= 3 AND digits NOT GLOB '*[^0-9]*'
      AND substr(trim(text), 1, 1) <> '+' AND substr(trim(text), 1, 2) <> '00'
    UNION
    -- Every number of the contacts whose name matches.
    SELECT n.number_key
    FROM mirror_contact_numbers n
    JOIN mirror_contacts c ON c.uuid = n.contact_uuid, wanted w
    WHERE trim(w.text) <> '' AND c.formatted_name LIKE '%' || trim(w.text) || '%'
),
messages AS (
    SELECT e.id, e.created_utc
    FROM mirror_events e
    WHERE e.kind = 'sms'
      AND e.id IN (SELECT ep.event_id FROM mirror_event_endpoints ep
                    WHERE ep.number_key IN (SELECT number_key FROM numbers))
    ORDER BY e.created_utc DESC
    LIMIT coalesce(:limit, 200)
)
SELECT s.created_local AS at,
       CASE WHEN s.direction = 'incoming' THEN 'from' ELSE 'to' END AS way,
       CASE WHEN s.direction = 'incoming' THEN coalesce(s.from_name, s.from_number)
            ELSE coalesce(s.to_name, s.to_number) END AS who,
       s.text
FROM messages m JOIN sms s ON s.id = m.id
ORDER BY s.created;
