-- title: Contacts without numbers
-- Contacts that have no phone number at all: useless on a desk phone, perhaps incomplete.
SELECT name, organization, primary_email AS email, uuid
FROM contacts
WHERE number_count = 0 AND gone_upstream = 0
ORDER BY family_name, given_name, name;
