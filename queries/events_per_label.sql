-- title: Events per label
-- How many events carry each label (as shown, local edits included), per type, and how many of
-- them are unread.
WITH RECURSIVE split (id, kind, read, label, rest) AS (
    SELECT id, kind, read, '', labels || ',' FROM events WHERE labels <> ''
    UNION ALL
    SELECT id, kind, read, substr(rest, 1, instr(rest, ',') - 1), substr(rest, instr(rest, ',') + 1)
    FROM split WHERE rest <> ''
)
SELECT label,
       count(*) AS events,
       sum(kind = 'call') AS calls,
       sum(kind = 'fax') AS faxes,
       sum(kind = 'sms') AS sms,
       sum(kind = 'voicemail') AS voicemails,
       sum(read = 0) AS unread
FROM split
WHERE label <> ''
GROUP BY label
ORDER BY events DESC, label;
