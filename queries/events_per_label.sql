-- title: Events per label
-- How many events carry each label (as shown, local edits included), per type, and how many of
-- them are unread.
WITH RECURSIVE lists AS (
    -- Few distinct label lists, however many events: count per list first, then split.
    SELECT labels,
           count(*) AS events,
           sum(kind = 'call') AS calls,
           sum(kind = 'fax') AS faxes,
           sum(kind = 'sms') AS sms,
           sum(kind = 'voicemail') AS voicemails,
           sum(read = 0) AS unread
    FROM mirror_events
    WHERE labels <> ''
    GROUP BY labels
),
split (label, rest, events, calls, faxes, sms, voicemails, unread) AS (
    SELECT '', labels || ',', events, calls, faxes, sms, voicemails, unread FROM lists
    UNION ALL
    SELECT substr(rest, 1, instr(rest, ',') - 1), substr(rest, instr(rest, ',') + 1),
           events, calls, faxes, sms, voicemails, unread
    FROM split WHERE rest <> ''
)
SELECT label,
       sum(events) AS events,
       sum(calls) AS calls,
       sum(faxes) AS faxes,
       sum(sms) AS sms,
       sum(voicemails) AS voicemails,
       sum(unread) AS unread
FROM split
WHERE label <> ''
GROUP BY label
ORDER BY events DESC, label;
