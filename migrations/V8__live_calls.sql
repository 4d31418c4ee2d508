-- sipmirror schema, part 8: calls while they happen, from sipgate's push API (webhooks).
--
-- `sipmirror webhook` receives the `newCall`, `answer`, `hangup` and `dtmf` posts sipgate sends
-- for every call of the account and keeps one row per call here, while it rings, while it is
-- talked and after it ended. The push API sends no time, so the times are when the post
-- arrived. It sends no history id either: the finished call reaches `calls` with the pull the
-- receiver runs after each hangup (or with the next sync). Posts may come twice or out of
-- order; each one only fills what is still empty (a late `newCall` after its `hangup` does not
-- make the call ring again).

CREATE TABLE mirror_live_calls (
    call_id          TEXT PRIMARY KEY,          -- the push API's callId (also RTCM's /calls id)
    orig_call_id     TEXT,                      -- origCallId: stable across transfers
    direction        TEXT,                      -- in, out
    from_number      TEXT,                      -- digits without +, or anonymous
    from_number_key  TEXT,                      -- normalized, joins contact_numbers.number_key
    to_number        TEXT,
    to_number_key    TEXT,
    users            TEXT,                      -- JSON array of the users' names (user[])
    user_ids         TEXT,                      -- JSON array of their ids, w0 (userId[])
    answering_number TEXT,                      -- who answered (answer, hangup)
    diversion        TEXT,                      -- the number originally dialled, if diverted
    rung_at          TEXT,                      -- UTC, when newCall arrived
    answered_at      TEXT,                      -- UTC, when answer arrived
    ended_at         TEXT,                      -- UTC, when hangup arrived
    hangup_cause     TEXT,                      -- normalClearing, busy, cancel, noAnswer,
                                                -- congestion, notFound, forwarded
    dtmf             TEXT,                      -- digits received (dtmf posts), in order
    updated_at       TEXT NOT NULL
) STRICT;

CREATE INDEX mirror_live_calls_rung ON mirror_live_calls (rung_at);

-- Calls from the push API, with names resolved through the contacts as in `calls`, and what
-- they are doing: ringing, talking or ended.
CREATE VIEW live_calls AS
SELECT l.call_id,
       l.orig_call_id,
       l.direction,                                 -- in, out
       CASE WHEN l.ended_at IS NOT NULL THEN 'ended'
            WHEN l.answered_at IS NOT NULL THEN 'talking'
            ELSE 'ringing' END AS state,            -- ringing, talking, ended
       l.from_number,
       (SELECT c.formatted_name
          FROM mirror_contact_numbers n JOIN mirror_contacts c ON c.uuid = n.contact_uuid
         WHERE n.number_key = l.from_number_key AND c.upstream_state = 'present'
         ORDER BY c.formatted_name, c.uuid LIMIT 1) AS from_name,
       l.to_number,
       (SELECT c.formatted_name
          FROM mirror_contact_numbers n JOIN mirror_contacts c ON c.uuid = n.contact_uuid
         WHERE n.number_key = l.to_number_key AND c.upstream_state = 'present'
         ORDER BY c.formatted_name, c.uuid LIMIT 1) AS to_name,
       l.users,
       l.user_ids,
       l.answering_number,
       l.diversion,
       l.rung_at,
       l.answered_at,
       l.ended_at,
       l.hangup_cause,
       l.dtmf
FROM mirror_live_calls l;
