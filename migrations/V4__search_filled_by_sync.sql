-- sipmirror schema, part 4: the sync fills the message search itself.
--
-- `search_messages` (part 2) was kept current by triggers, one FTS5 insert per new SMS or
-- voicemail. FTS5 writes its pending entries to disk at the end of every statement that
-- touched it, so a first sync paid for one tiny index segment per message. The sync now adds
-- the texts of the messages it stored with one statement per transaction; the update and delete
-- triggers stay (an edited or removed message still updates the index at once).
DROP TRIGGER search_sms_insert;
DROP TRIGGER search_voicemail_insert;
