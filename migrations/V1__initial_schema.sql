-- sipmirror mirror schema, version 1.
--
-- This file is the schema's documentation. Conventions used throughout:
--
-- * Storage tables are prefixed `mirror_` (data copied from sipgate), `sync_` (the sync engine's
--   own state), `outbox` (local edits waiting to be replayed) and `media_` (downloaded files).
--   The plain names `events`, `calls`, `faxes`, `sms`, `voicemails`, `contacts` and
--   `contact_numbers` are reserved for the public views, so the storage can change without
--   breaking anyone's queries. Query the views, not these tables.
-- * Times written by sipmirror are UTC in the form `YYYY-MM-DDTHH:MM:SS.sssZ`, which sorts as
--   text. Times copied from upstream are kept verbatim in a `*_upstream` column where the
--   original offset matters.
-- * Booleans are INTEGER 0/1.
-- * `raw_json` holds the record exactly as upstream sent it (minus credentials such as SIP
--   passwords and voicemail PINs, which never enter the mirror), so new fields can be derived
--   later without a re-download.
-- * Mutable upstream fields (read, starred, labels, location) are stored twice: `X` is the
--   visible value (what the user sees, including local edits not yet pushed) and `X_base` is
--   the last value seen upstream. A pull always updates `X_base`; it updates `X` only when no
--   local edit of that field is waiting in the outbox.
-- * `upstream_state` is 'present' or 'deleted'. Rows that disappear from a *complete* upstream
--   listing are marked 'deleted' (with `deleted_upstream_at`), never removed, so history and
--   local notes survive an accidental upstream wipe.

------------------------------------------------------------------------------------------------
-- Events: calls, faxes, SMS and voicemails.
------------------------------------------------------------------------------------------------

-- One row per upstream event, whatever its type. Type-specific fields live in the per-type
-- tables below (one row there per row here, same id). The sync writes events oldest first, so
-- rows and index entries are appended rather than squeezed in.
CREATE TABLE mirror_events (
    id                  INTEGER PRIMARY KEY,    -- upstream id: a numeric string upstream, stored as an
                                                -- integer (the rowid), increasing over time
    kind                TEXT NOT NULL CHECK (kind IN ('call', 'fax', 'sms', 'voicemail')),
    created_upstream    TEXT NOT NULL,          -- `created` as sent, e.g. 2012-03-01T14:05:09.000+0100
    created_utc         TEXT NOT NULL,          -- the same instant in UTC, for sorting and windows
    scheduled_upstream  TEXT,                   -- `scheduled`: when a queued SMS/fax is to be sent
    direction           TEXT,                   -- incoming, outgoing, missed_incoming, missed_outgoing
    status              TEXT,                   -- failed, sent, pending, scheduled
    comment             TEXT,                   -- user-defined comment
    extension_id        TEXT,                   -- the internal endpoint that handled the event
    extension_alias     TEXT,
    extension_url       TEXT,
    read                INTEGER NOT NULL DEFAULT 0 CHECK (read IN (0, 1)),
    read_base           INTEGER CHECK (read_base IN (0, 1)),
    starred             INTEGER NOT NULL DEFAULT 0 CHECK (starred IN (0, 1)),
    starred_base        INTEGER CHECK (starred_base IN (0, 1)),
    labels              TEXT NOT NULL DEFAULT '', -- comma-separated, in upstream order; '' = none
    labels_base         TEXT,
    location            TEXT,                   -- inbox, sent, archive, trash
    location_base       TEXT,
    content_url         TEXT,                   -- `get`: link to the attached resource (PDF, audio)
    modify_url          TEXT,                   -- `modify`: absolute URL to change the event
    upstream_state      TEXT NOT NULL DEFAULT 'present' CHECK (upstream_state IN ('present', 'deleted')),
    deleted_upstream_at TEXT,
    first_seen_at       TEXT NOT NULL,          -- when sipmirror first stored this event
    updated_at          TEXT NOT NULL,          -- when a pull last changed any stored value
    raw_json            TEXT NOT NULL
) STRICT;

CREATE INDEX mirror_events_created ON mirror_events (created_utc);
CREATE INDEX mirror_events_kind_created ON mirror_events (kind, created_utc);
CREATE INDEX mirror_events_deleted ON mirror_events (upstream_state) WHERE upstream_state <> 'present';

-- The sources and targets of an event (for calls: caller and callee). An event can have several
-- of each, so they are rows here, in upstream order.
CREATE TABLE mirror_event_endpoints (
    event_id      INTEGER NOT NULL REFERENCES mirror_events (id) ON DELETE CASCADE,
    role          TEXT NOT NULL CHECK (role IN ('source', 'target')),
    position      INTEGER NOT NULL,             -- 0-based order within the role
    number_e164   TEXT,                         -- `numberE164` as sent
    number_pretty TEXT,                         -- `numberPretty`: human readable form
    contact_fn    TEXT,                         -- `contactFN`: upstream's name for the number, if any
    contact_url   TEXT,                         -- `get`: link to the matching upstream contact
    number_key    TEXT,                         -- digits-only international form (4930123...), the
                                                -- join key to mirror_contact_numbers.number_key
    PRIMARY KEY (event_id, role, position)
) STRICT, WITHOUT ROWID;

CREATE INDEX mirror_event_endpoints_number ON mirror_event_endpoints (number_key, role);

-- Call specifics. `duration_s` is not in the 2012 reference page; upstream-api.md fixes it as an
-- optional field in seconds so talk time can be reported.
CREATE TABLE mirror_calls (
    event_id   INTEGER PRIMARY KEY REFERENCES mirror_events (id) ON DELETE CASCADE,
    duration_s INTEGER
) STRICT;

-- Recordings attached to a call (`recordings[]`), in upstream order.
CREATE TABLE mirror_call_recordings (
    event_id INTEGER NOT NULL REFERENCES mirror_calls (event_id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    url      TEXT NOT NULL,
    PRIMARY KEY (event_id, position)
) STRICT, WITHOUT ROWID;

-- Fax specifics.
CREATE TABLE mirror_faxes (
    event_id      INTEGER PRIMARY KEY REFERENCES mirror_events (id) ON DELETE CASCADE,
    page_count    INTEGER,
    sent_upstream TEXT,                         -- `sent`: date and time in the user's time zone
    content_url   TEXT,                         -- `content`: the PDF or TIFF document
    fail_reason   TEXT                          -- set only when sending failed
) STRICT;

-- One row per fax page with its preview links (`previews[]`).
CREATE TABLE mirror_fax_pages (
    event_id    INTEGER NOT NULL REFERENCES mirror_faxes (event_id) ON DELETE CASCADE,
    page_number INTEGER NOT NULL,
    small_url   TEXT,
    big_url     TEXT,
    PRIMARY KEY (event_id, page_number)
) STRICT, WITHOUT ROWID;

-- SMS specifics.
CREATE TABLE mirror_sms (
    event_id      INTEGER PRIMARY KEY REFERENCES mirror_events (id) ON DELETE CASCADE,
    sent_upstream TEXT,
    text          TEXT
) STRICT;

-- Voicemail specifics.
CREATE TABLE mirror_voicemails (
    event_id      INTEGER PRIMARY KEY REFERENCES mirror_events (id) ON DELETE CASCADE,
    duration_s    INTEGER,                      -- length of the recording in seconds
    caller        TEXT,                         -- `caller` as sent
    content_url   TEXT,                         -- the audio, via a 307 redirect
    transcription TEXT
) STRICT;

------------------------------------------------------------------------------------------------
-- Contacts.
------------------------------------------------------------------------------------------------

-- One row per upstream contact. The display columns are derived from the entries when the
-- contact is stored; the entries are the source of truth.
CREATE TABLE mirror_contacts (
    uuid                TEXT PRIMARY KEY,       -- `contactMeta.UUID`
    valid_from_upstream TEXT,                   -- `contactMeta.validFrom`: creation date
    owner               TEXT,                   -- `contactMeta.owner`
    formatted_name      TEXT,                   -- FN, or built from N / ORG when FN is missing
    family_name         TEXT,                   -- from the first N entry
    given_name          TEXT,
    organization        TEXT,                   -- from the first ORG entry
    content_hash        TEXT NOT NULL,          -- hash of raw_json; unchanged contacts are not rewritten
    upstream_state      TEXT NOT NULL DEFAULT 'present' CHECK (upstream_state IN ('present', 'deleted')),
    deleted_upstream_at TEXT,
    first_seen_at       TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    raw_json            TEXT NOT NULL
) STRICT;

CREATE INDEX mirror_contacts_name ON mirror_contacts (family_name, given_name);

-- Every line of a contact (`entries[]`), with the structured parts the API splits out. Which
-- part columns are filled depends on `entry_name`: ADR fills the address parts, N the name
-- parts, GEO lat/long, ORG org_name/org_units; TEL, EMAIL, FN, NOTE, URL, ... use `value`.
CREATE TABLE mirror_contact_entries (
    contact_uuid TEXT NOT NULL REFERENCES mirror_contacts (uuid) ON DELETE CASCADE,
    position     INTEGER NOT NULL,              -- 0-based order in upstream's entries[]
    entry_name   TEXT NOT NULL,                 -- vCard property name, upper case: TEL, EMAIL, N, ...
    entry_group  TEXT,                          -- vCard group (the `item1` of `item1.TEL`)
    types        TEXT NOT NULL DEFAULT '',      -- comma-separated, upper case: WORK,FAX
    value        TEXT,
    local_value  TEXT,                          -- `x-local-value`: a number in national format
    po_box       TEXT,
    extended     TEXT,
    street       TEXT,
    city         TEXT,
    region       TEXT,
    country      TEXT,
    family       TEXT,
    given        TEXT,
    middle       TEXT,
    prefixes     TEXT,
    suffixes     TEXT,
    lat          TEXT,                          -- kept as text: upstream sends strings
    long         TEXT,
    org_name     TEXT,
    org_units    TEXT,                          -- JSON array of strings
    PRIMARY KEY (contact_uuid, position)
) STRICT, WITHOUT ROWID;

CREATE INDEX mirror_contact_entries_name ON mirror_contact_entries (entry_name);

-- Every phone number of every contact in one normalized form, for caller-name lookups and
-- duplicate detection. Derived from the TEL entries whenever a contact is stored.
CREATE TABLE mirror_contact_numbers (
    contact_uuid TEXT NOT NULL REFERENCES mirror_contacts (uuid) ON DELETE CASCADE,
    position     INTEGER NOT NULL,              -- the TEL entry's position in mirror_contact_entries
    number_key   TEXT NOT NULL,                 -- digits-only international form, see mirror_event_endpoints
    types        TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (contact_uuid, position)
) STRICT, WITHOUT ROWID;

CREATE INDEX mirror_contact_numbers_key ON mirror_contact_numbers (number_key);

------------------------------------------------------------------------------------------------
-- Settings: numbers, extensions, devices.
------------------------------------------------------------------------------------------------

-- Account-wide settings that exist once. Always the single row id = 1.
CREATE TABLE mirror_account (
    id                INTEGER PRIMARY KEY CHECK (id = 1),
    base_product_type TEXT,                     -- /settings/baseproducttype
    numbers_allow_add INTEGER,                  -- /settings/numbers: allowAdd
    numbers_allow_empty_oadc INTEGER,           -- /settings/numbers: allowEmptyOadc (calls without caller id)
    updated_at        TEXT NOT NULL,
    raw_json          TEXT NOT NULL             -- {"numbers": ..., "baseproducttype": ...}
) STRICT;

-- The account's phone numbers with their routing (/settings/numbers `phonenumbers`).
CREATE TABLE mirror_numbers (
    number_e164  TEXT PRIMARY KEY,
    number_pretty TEXT,
    number_type  TEXT,                          -- landline, mobile, ...
    extension_id TEXT,                          -- the extension the number routes to, if any
    updated_at   TEXT NOT NULL,
    raw_json     TEXT NOT NULL
) STRICT;

-- Every single number of the account (/settings/numbers/list), including block members.
CREATE TABLE mirror_number_list (
    number_e164 TEXT PRIMARY KEY,
    updated_at  TEXT NOT NULL,
    raw_json    TEXT NOT NULL
) STRICT;

-- The caller id each extension sends (/settings/numbers/outgoing).
CREATE TABLE mirror_outgoing_numbers (
    extension_id TEXT PRIMARY KEY,
    number_e164  TEXT,
    updated_at   TEXT NOT NULL,
    raw_json     TEXT NOT NULL
) STRICT;

-- Extensions of every type (/settings/extensions and /settings/extensions/{id}). Type-specific
-- columns are NULL for the other types. The SIP password and the voicemail PIN are credentials
-- and are never stored; `has_sip_password` / `has_pin` only say that upstream has one.
CREATE TABLE mirror_extensions (
    extension_id         TEXT PRIMARY KEY,
    alias                TEXT,
    type                 TEXT,                  -- sms, fax, voicemail, register, external
    resource_url         TEXT,
    dnd                  INTEGER CHECK (dnd IN (0, 1)),   -- Do Not Disturb
    outgoing_number      TEXT,
    register_url         TEXT,                  -- register: SIP registrar
    outbound_proxy_url   TEXT,                  -- register: SIP outbound proxy
    has_sip_password     INTEGER,               -- register
    fax_in               INTEGER,               -- fax: incoming fax available
    has_pin              INTEGER,               -- voicemail
    timezone             TEXT,                  -- voicemail
    announcement_url     TEXT,                  -- voicemail
    provider             TEXT,                  -- external: provider of the external line
    external_phonenumber TEXT,                  -- external: the line's number
    upstream_state       TEXT NOT NULL DEFAULT 'present' CHECK (upstream_state IN ('present', 'deleted')),
    updated_at           TEXT NOT NULL,
    raw_json             TEXT NOT NULL
) STRICT;

-- Numbers mapped to an extension: for incoming connections or as direct-dial numbers.
CREATE TABLE mirror_extension_numbers (
    extension_id TEXT NOT NULL REFERENCES mirror_extensions (extension_id) ON DELETE CASCADE,
    kind         TEXT NOT NULL CHECK (kind IN ('incoming', 'direct_dial')),
    number_e164  TEXT NOT NULL,
    PRIMARY KEY (extension_id, kind, number_e164)
) STRICT, WITHOUT ROWID;

-- Devices currently registered to a register-extension.
CREATE TABLE mirror_extension_devices (
    extension_id TEXT NOT NULL REFERENCES mirror_extensions (extension_id) ON DELETE CASCADE,
    device_id    TEXT NOT NULL,
    raw_json     TEXT NOT NULL,
    PRIMARY KEY (extension_id, device_id)
) STRICT, WITHOUT ROWID;

-- Mobile devices registered with the account (/settings/registeredmobiledevices).
CREATE TABLE mirror_mobile_devices (
    device_id    TEXT PRIMARY KEY,
    phone_number TEXT,
    model        TEXT,
    vendor       TEXT,
    firmware     TEXT,
    updated_at   TEXT NOT NULL,
    raw_json     TEXT NOT NULL
) STRICT;

-- Mobile extensions set up on the account (/settings/mobile/extensions).
CREATE TABLE mirror_mobile_extensions (
    extension_id TEXT PRIMARY KEY,
    phone_number TEXT,
    model        TEXT,
    vendor       TEXT,
    firmware     TEXT,
    updated_at   TEXT NOT NULL,
    raw_json     TEXT NOT NULL
) STRICT;

------------------------------------------------------------------------------------------------
-- Balance.
------------------------------------------------------------------------------------------------

-- The current balance (/billing/balance). Always the single row id = 1.
CREATE TABLE mirror_balance (
    id                  INTEGER PRIMARY KEY CHECK (id = 1),
    currency            TEXT,
    total_including_vat REAL,
    vat_percent         REAL,
    updated_at          TEXT NOT NULL,
    raw_json            TEXT NOT NULL
) STRICT;

-- The vouchers of the current balance. Credits are kept as text because upstream sends strings.
CREATE TABLE mirror_balance_vouchers (
    kind              TEXT NOT NULL CHECK (kind IN ('sms', 'minute', 'fax')),
    position          INTEGER NOT NULL,
    redeem_date       TEXT,
    end_of_validity   TEXT,
    credits_init      TEXT,
    credits_used      TEXT,
    credits_left      TEXT,
    PRIMARY KEY (kind, position)
) STRICT, WITHOUT ROWID;

-- One row each time a sync saw the balance (or its vouchers) differ from the previous row.
CREATE TABLE mirror_balance_history (
    id                  INTEGER PRIMARY KEY,
    observed_at         TEXT NOT NULL,
    currency            TEXT,
    total_including_vat REAL,
    vat_percent         REAL,
    vouchers_json       TEXT NOT NULL           -- the vouchers at that time, as a JSON object
) STRICT;

CREATE INDEX mirror_balance_history_observed ON mirror_balance_history (observed_at);

------------------------------------------------------------------------------------------------
-- Sync state.
------------------------------------------------------------------------------------------------

-- Per-stream cursors and bookkeeping. A stream's row is written in the same transaction as the
-- page it describes, so a crash never leaves a cursor ahead of the data.
CREATE TABLE sync_streams (
    stream                TEXT PRIMARY KEY,     -- calls, faxes, sms, voicemails, contacts, settings, balance
    newest_created_utc    TEXT,                 -- newest event seen; the lookback window counts back from it
    last_success_at       TEXT,                 -- end of the last run that finished this stream
    last_full_at          TEXT,                 -- end of the last complete listing (full reconcile)
    page_run_id           INTEGER,              -- run paging this stream right now (NULL when idle)
    page_period_end       TEXT,                 -- that run's fixed upper bound
    page_offset           INTEGER,              -- offset of the last page committed (pages are
                                                -- written oldest first, so this counts down)
    updated_at            TEXT NOT NULL
) STRICT;

-- One row per sync or push run: the log `sipmirror status` shows.
CREATE TABLE sync_runs (
    id          INTEGER PRIMARY KEY,
    command     TEXT NOT NULL,                  -- sync, push, ...
    started_at  TEXT NOT NULL,
    finished_at TEXT,                           -- NULL while running, or when the process died
    outcome     TEXT NOT NULL DEFAULT 'running'
                CHECK (outcome IN ('running', 'ok', 'partial', 'failed')),
    requests    INTEGER NOT NULL DEFAULT 0,     -- HTTP requests made upstream
    error       TEXT                            -- the error that ended the run, if any
) STRICT;

CREATE INDEX sync_runs_started ON sync_runs (started_at);

-- Per-stream counts of a run.
CREATE TABLE sync_run_streams (
    run_id     INTEGER NOT NULL REFERENCES sync_runs (id) ON DELETE CASCADE,
    stream     TEXT NOT NULL,
    fetched    INTEGER NOT NULL DEFAULT 0,      -- records received
    new        INTEGER NOT NULL DEFAULT 0,
    changed    INTEGER NOT NULL DEFAULT 0,
    deleted    INTEGER NOT NULL DEFAULT 0,      -- newly marked deleted upstream
    pages      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (run_id, stream)
) STRICT, WITHOUT ROWID;

------------------------------------------------------------------------------------------------
-- Outbox: local changes waiting to be replayed upstream.
------------------------------------------------------------------------------------------------

-- Pending work for upstream. Field edits (`op` = 'set') hold the target value, never a toggle:
-- one row per (event, field); a second edit replaces the value; an edit back to the base
-- removes the row. A delete (`op` = 'delete') supersedes pending field edits of its event.
-- Sends (`op` = 'send_sms', 'send_fax') carry their request in `payload_json` and a
-- `client_token` used to find them upstream after an ambiguous failure, so they go out once.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,        -- also the replay order
    op              TEXT NOT NULL CHECK (op IN ('set', 'delete', 'send_sms', 'send_fax')),
    event_id        INTEGER,                    -- the event edited (NULL for sends)
    field           TEXT CHECK (field IN ('read', 'starred', 'labels', 'location')),
    value           TEXT,                       -- target value: '0'/'1', a label list, a location
    payload_json    TEXT,                       -- sends: the request to make
    client_token    TEXT UNIQUE,                -- sends: our idempotency token
    state           TEXT NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'in_flight', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,                       -- earliest retry after a transient error
    last_error      TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
) STRICT;

CREATE UNIQUE INDEX outbox_one_per_field ON outbox (event_id, field) WHERE op = 'set';
CREATE INDEX outbox_state ON outbox (state, next_attempt_at);

-- What became of outbox entries that were closed: pushed, superseded upstream (404), resolved
-- as a conflict, or dropped by the user. Kept for `sipmirror outbox log` and audits.
CREATE TABLE outbox_log (
    id          INTEGER PRIMARY KEY,
    outbox_id   INTEGER NOT NULL,
    op          TEXT NOT NULL,
    event_id    INTEGER,
    field       TEXT,
    value       TEXT,
    result      TEXT NOT NULL,                  -- pushed, gone_upstream, conflict_local_won,
                                                -- conflict_upstream_won, dropped
    detail      TEXT,
    closed_at   TEXT NOT NULL
) STRICT;

------------------------------------------------------------------------------------------------
-- Media: downloaded voicemail audio, fax documents and previews.
------------------------------------------------------------------------------------------------

-- Index of downloaded files. The files live in a content-addressed folder beside the database;
-- `path` is relative to that folder. A row is written only after the file is complete and its
-- hash checked, so a row always points at a whole file.
CREATE TABLE media_files (
    event_id   INTEGER NOT NULL REFERENCES mirror_events (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL CHECK (kind IN ('voicemail_audio', 'fax_document', 'fax_preview_small',
                                             'fax_preview_big', 'call_recording')),
    page       INTEGER NOT NULL DEFAULT 0,      -- fax page for previews, recording index; else 0
    mime_type  TEXT NOT NULL,
    size       INTEGER NOT NULL,
    sha256     TEXT NOT NULL,
    path       TEXT NOT NULL,
    source_url TEXT,
    fetched_at TEXT NOT NULL,
    PRIMARY KEY (event_id, kind, page)
) STRICT, WITHOUT ROWID;

CREATE INDEX media_files_sha256 ON media_files (sha256);
