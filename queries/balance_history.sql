-- title: Balance history
-- The account balance each time a sync saw it change, with the change since the previous
-- observation (a drop is what was spent, a rise a top-up).
-- param: from (date, default none): the first day (UTC)
-- param: to (date, default none): the last day (UTC)
SELECT observed_at, currency, balance, change FROM (
SELECT observed_at,
       currency,
       total_including_vat AS balance,
       round(total_including_vat - lag(total_including_vat) OVER (ORDER BY observed_at, id), 2) AS change,
       id
FROM mirror_balance_history
)
WHERE (:from IS NULL OR observed_at >= :from)
  AND (:to IS NULL OR observed_at < date(:to, '+1 day'))
ORDER BY observed_at DESC, id DESC;
