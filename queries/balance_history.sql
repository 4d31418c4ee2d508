-- title: Balance history
-- The account balance each time a sync saw it change, with the change since the previous
-- observation (a drop is what was spent, a rise a top-up).
SELECT observed_at,
       currency,
       total_including_vat AS balance,
       round(total_including_vat - lag(total_including_vat) OVER (ORDER BY observed_at, id), 2) AS change
FROM mirror_balance_history
ORDER BY observed_at DESC, id DESC;
