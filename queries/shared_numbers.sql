-- title: Numbers shared by several contacts
-- Phone numbers that appear in more than one contact (compared in normalized form): duplicates
-- to merge, or a switchboard number several people share.
SELECT min(number) AS number,
       count(DISTINCT uuid) AS contacts,
       group_concat(DISTINCT name) AS names
FROM contact_numbers
WHERE gone_upstream = 0
GROUP BY number_key
HAVING count(DISTINCT uuid) > 1
ORDER BY contacts DESC, number;
