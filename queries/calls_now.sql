-- title: Calls now
-- Calls ringing or being talked right now, as sipgate's push API reported them to
-- `sipmirror webhook` (the newest first), with the names of caller and callee. A call whose
-- hangup never came is left out after `hours` hours.
-- param: hours (integer, default 4): how far back a call may have started
SELECT call_id,
       state,
       direction,
       coalesce(from_name, from_number, '(unknown)') AS caller,
       coalesce(to_name, to_number, '(unknown)') AS callee,
       answering_number,
       rung_at,
       answered_at
FROM live_calls
WHERE state <> 'ended'
  AND rung_at >= strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-' || coalesce(:hours, 4) || ' hours')
ORDER BY rung_at DESC;
