-- sipmirror schema, part 6: an edit remembers what it was made against.
--
-- A conflict is upstream changing a field after the local edit was made. The base of an edit
-- used to be the `*_base` column at push time, but a pull between the edit and its push moves
-- that column to upstream's new value, and the push then saw no conflict and overwrote the
-- website's change whatever `[push] conflict` said. Now each outbox entry keeps the upstream
-- value its field had when the edit was made; a second edit of the same field keeps the first
-- one's (the person never saw upstream's change in between: a pull does not show it while the
-- edit waits).

-- The upstream value of the field when the edit was made (NULL for sends).
ALTER TABLE outbox ADD COLUMN edit_base TEXT;

UPDATE outbox SET edit_base = (
    SELECT CASE outbox.field WHEN 'read' THEN CAST(e.read_base AS TEXT)
                             WHEN 'starred' THEN CAST(e.starred_base AS TEXT)
                             WHEN 'labels' THEN e.labels_base
                             ELSE e.location_base END
    FROM mirror_events e WHERE e.id = outbox.event_id)
WHERE op IN ('set', 'delete');

CREATE TRIGGER outbox_remembers_the_edit_base AFTER INSERT ON outbox
WHEN NEW.op IN ('set', 'delete') AND NEW.edit_base IS NULL
BEGIN
    UPDATE outbox SET edit_base = (
        SELECT CASE NEW.field WHEN 'read' THEN CAST(e.read_base AS TEXT)
                              WHEN 'starred' THEN CAST(e.starred_base AS TEXT)
                              WHEN 'labels' THEN e.labels_base
                              ELSE e.location_base END
        FROM mirror_events e WHERE e.id = NEW.event_id)
    WHERE id = NEW.id;
END;
