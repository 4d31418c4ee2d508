-- sipmirror schema, part 10: where the next run looks back from.
--
-- An incremental run lists each event type from a lookback window back. It used to count back
-- from the newest event stored; but a run that fails or is killed can store newer events of
-- one listing (v2 lists archived entries apart) than another listing reached, and the next
-- run then never listed what lay between. The window now counts back from an edge that only
-- a complete listing of the type moves: the newest event it held, or the run's upper bound
-- if that is older. A run that ends early leaves the edge where it was.

ALTER TABLE sync_streams ADD COLUMN complete_until_utc TEXT;  -- the lookback counts back from this
                                                              -- (UTC); moved only by a complete
                                                              -- listing of the stream

-- What the window counted back from before: the newest event stored, where the stream finished.
UPDATE sync_streams
   SET complete_until_utc = (SELECT max(e.created_utc) FROM mirror_events e
                              WHERE e.kind = CASE sync_streams.stream
                                               WHEN 'calls' THEN 'call' WHEN 'faxes' THEN 'fax'
                                               WHEN 'sms' THEN 'sms' ELSE 'voicemail' END)
 WHERE stream IN ('calls', 'faxes', 'sms', 'voicemails') AND last_success_at IS NOT NULL;
