-- sipmirror schema, part 11: the postal code of a contact's address.
--
-- The classic API's contact entries had no postal code; v2 sends one (`postalCode`) with
-- every address, and vCards and the contacts' addresses lost it until now.

ALTER TABLE mirror_contact_entries ADD COLUMN postal_code TEXT;  -- ADR: the postal code (v2)
