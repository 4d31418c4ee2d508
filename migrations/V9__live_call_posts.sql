-- sipmirror schema, part 9: repeated push posts change nothing.
--
-- sipgate may post the same `dtmf` twice (a retry after an answer it did not get). The other
-- posts only fill what is still empty, so their repeats change nothing already; a `dtmf` post
-- appends its digits, so its repeat is recognised by this column: a post whose digits equal
-- the previous one's of the same call is taken for a repeat. (The same digits entered twice in
-- a row in one call are therefore kept once.)

ALTER TABLE mirror_live_calls ADD COLUMN dtmf_last_post TEXT;  -- the digits of the last dtmf post
