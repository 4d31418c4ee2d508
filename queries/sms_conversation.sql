-- title: SMS conversation
-- Every SMS to and from one person, oldest first: give a contact's name (or part of it) or a
-- number in any common form (+49 30 1234567, 030/1234567, 4930...).
-- param: with (text, required): a name or a number
WITH wanted AS (
    SELECT coalesce(:with, '') AS text,
           ltrim(replace(replace(replace(replace(replace(replace(coalesce(:with, ''),
               ' ', ''), '-', ''), '/', ''), '(', ''), ')', ''), '+', ''), '0') AS digits
)
SELECT s.created_local AS at,
       CASE WHEN s.direction = 'incoming' THEN 'from' ELSE 'to' END AS way,
       CASE WHEN s.direction = 'incoming' THEN coalesce(s.from_name, s.from_number)
            ELSE coalesce(s.to_name, s.to_number) END AS who,
       s.text
FROM sms s, wanted w
WHERE w.text <> ''
  AND ((w.digits GLOB '[0-9]*' AND length(w.digits) >= 3
        AND (s.from_number_key LIKE '%' || w.digits OR s.to_number_key LIKE '%' || w.digits))
       OR s.from_name LIKE '%' || w.text || '%'
       OR s.to_name LIKE '%' || w.text || '%')
ORDER BY s.created;
