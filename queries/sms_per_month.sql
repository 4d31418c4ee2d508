-- title: SMS per month
-- Text messages per local month over the last `days` days, sent and received.
-- param: days (integer, default 365): how many days back
-- param: from (date, default none): the first day (local time); instead of `days`
-- param: to (date, default none): the last day (local time); default: today
SELECT strftime('%Y-%m', e.created_local) AS month,
       sum(e.direction = 'outgoing') AS sent,
       sum(e.direction <> 'outgoing') AS received
FROM mirror_events e
WHERE e.kind = 'sms'
  AND e.created_utc >= coalesce(date(:from, '-1 day'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-' || coalesce(:days, 365) || ' days'))
  AND (:from IS NULL OR e.created_local >= :from)
  AND (:to IS NULL OR (e.created_utc < date(:to, '+2 days') AND e.created_local < date(:to, '+1 day')))
GROUP BY month
ORDER BY month;
