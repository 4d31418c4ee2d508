//! Writing settings and the balance. Settings are a small snapshot: each run replaces the
//! number tables and brings extensions up to date (an extension gone upstream is marked
//! deleted, like events and contacts).

use rusqlite::{Connection, params};

use crate::error::Result;
pub use crate::records::settings::{
    AccountDetails, BalanceRecord, ExtensionRecord, ForwardingRecord, KeptSections, MobileRecord,
    NumberRecord, SettingsRecord, UnreadResource, UserRecord,
};

/// Writes the snapshot. Returns (new, changed, deleted) extensions.
pub fn store_settings(conn: &Connection, s: &SettingsRecord, now: &str) -> Result<(u64, u64, u64)> {
    if !s.kept.account {
        store_account(conn, s, now)?;
    }
    if !s.kept.users {
        store_users(conn, s, now)?;
    }
    if !s.kept.forwardings {
        store_forwardings(conn, s, now)?;
    }
    if !s.kept.numbers {
        store_numbers(conn, s, now)?;
    }
    let counts = store_extensions(conn, &s.extensions, !s.kept.extensions, now)?;
    store_mobiles(conn, s, now)?;
    crate::store::runs::set_meta(
        conn,
        UNREAD_KEY,
        &serde_json::to_string(&s.unread).unwrap_or_else(|_| "[]".into()),
    )?;
    Ok(counts)
}

/// `sync_meta` key: the settings resources the last settings pull did not read (JSON).
pub const UNREAD_KEY: &str = "settings_unread";

/// What the last settings pull could not read.
pub fn unread(conn: &Connection) -> Result<Vec<UnreadResource>> {
    Ok(crate::store::runs::get_meta(conn, UNREAD_KEY)?
        .and_then(|json| serde_json::from_str(&json).ok())
        .unwrap_or_default())
}

fn store_account(conn: &Connection, s: &SettingsRecord, now: &str) -> Result<()> {
    conn.execute(
        "INSERT INTO mirror_account (id, base_product_type, numbers_allow_add, numbers_allow_empty_oadc, updated_at, raw_json,
            company, history_lifetime, verified)
         VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (id) DO UPDATE SET base_product_type = excluded.base_product_type,
           numbers_allow_add = excluded.numbers_allow_add, numbers_allow_empty_oadc = excluded.numbers_allow_empty_oadc,
           updated_at = excluded.updated_at, raw_json = excluded.raw_json, company = excluded.company,
           history_lifetime = excluded.history_lifetime, verified = excluded.verified",
        params![
            s.base_product_type,
            s.allow_add,
            s.allow_empty_oadc,
            now,
            s.account_raw_json,
            s.account.company,
            s.account.history_lifetime,
            s.account.verified
        ],
    )?;
    Ok(())
}

fn store_users(conn: &Connection, s: &SettingsRecord, now: &str) -> Result<()> {
    conn.execute("DELETE FROM mirror_users", [])?;
    for u in &s.users {
        conn.execute(
            "INSERT INTO mirror_users (user_id, first_name, last_name, email, default_device, admin, timezone,
               updated_at, raw_json) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
             ON CONFLICT (user_id) DO NOTHING",
            params![
                u.id,
                u.first_name,
                u.last_name,
                u.email,
                u.default_device,
                u.admin,
                u.timezone,
                now,
                u.raw_json
            ],
        )?;
    }
    Ok(())
}

fn store_forwardings(conn: &Connection, s: &SettingsRecord, now: &str) -> Result<()> {
    conn.execute("DELETE FROM mirror_forwardings", [])?;
    let mut positions: std::collections::HashMap<&str, i64> = std::collections::HashMap::new();
    for f in &s.forwardings {
        let position = positions.entry(f.phoneline.as_str()).or_default();
        conn.execute(
            "INSERT INTO mirror_forwardings (extension_id, position, destination, timeout_s, active, alias, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![f.phoneline, *position, f.destination, f.timeout_s, f.active, f.alias, now],
        )?;
        *position += 1;
    }
    Ok(())
}

fn store_numbers(conn: &Connection, s: &SettingsRecord, now: &str) -> Result<()> {
    conn.execute("DELETE FROM mirror_numbers", [])?;
    for n in &s.numbers {
        conn.execute(
            "INSERT INTO mirror_numbers (number_e164, number_pretty, number_type, extension_id, updated_at, raw_json)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (number_e164) DO NOTHING",
            params![n.e164, n.pretty, n.kind, n.extension_id, now, n.raw_json],
        )?;
    }
    conn.execute("DELETE FROM mirror_number_list", [])?;
    for number in &s.number_list {
        conn.execute(
            "INSERT INTO mirror_number_list (number_e164, updated_at, raw_json) VALUES (?1, ?2, ?3)
             ON CONFLICT (number_e164) DO NOTHING",
            params![
                number,
                now,
                serde_json::to_string(number).unwrap_or_default()
            ],
        )?;
    }
    conn.execute("DELETE FROM mirror_outgoing_numbers", [])?;
    for (ext, number, raw) in &s.outgoing {
        conn.execute(
            "INSERT INTO mirror_outgoing_numbers (extension_id, number_e164, updated_at, raw_json) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (extension_id) DO UPDATE SET number_e164 = excluded.number_e164, raw_json = excluded.raw_json",
            params![ext, number, now, raw],
        )?;
    }
    Ok(())
}

fn store_mobiles(conn: &Connection, s: &SettingsRecord, now: &str) -> Result<()> {
    for (table, rows) in [
        ("mirror_mobile_devices", &s.mobile_devices),
        ("mirror_mobile_extensions", &s.mobile_extensions),
    ] {
        let key = if table == "mirror_mobile_devices" {
            "device_id"
        } else {
            "extension_id"
        };
        conn.execute(&format!("DELETE FROM {table}"), [])?;
        for m in rows {
            conn.execute(
                &format!(
                    "INSERT INTO {table} ({key}, phone_number, model, vendor, firmware, updated_at, raw_json)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT ({key}) DO NOTHING"
                ),
                params![m.id, m.phone_number, m.model, m.vendor, m.firmware, now, m.raw_json],
            )?;
        }
    }
    Ok(())
}

/// Upserts `extensions`; with `sweep`, marks the others deleted.
fn store_extensions(
    conn: &Connection,
    extensions: &[ExtensionRecord],
    sweep: bool,
    now: &str,
) -> Result<(u64, u64, u64)> {
    let (mut new, mut changed) = (0, 0);
    for e in extensions {
        let old: Option<String> = conn
            .query_row(
                "SELECT raw_json FROM mirror_extensions WHERE extension_id = ?1",
                [&e.id],
                |r| r.get(0),
            )
            .ok();
        match old {
            Some(raw) if raw == e.raw_json => {}
            Some(_) => changed += 1,
            None => new += 1,
        }
        conn.execute(
            "INSERT INTO mirror_extensions (extension_id, alias, type, resource_url, dnd, outgoing_number,
                register_url, outbound_proxy_url, has_sip_password, fax_in, has_pin, timezone, announcement_url,
                provider, external_phonenumber, upstream_state, updated_at, raw_json, user_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, 'present', ?16, ?17, ?18)
             ON CONFLICT (extension_id) DO UPDATE SET alias = excluded.alias, type = excluded.type,
                resource_url = excluded.resource_url, dnd = excluded.dnd, outgoing_number = excluded.outgoing_number,
                register_url = excluded.register_url, outbound_proxy_url = excluded.outbound_proxy_url,
                has_sip_password = excluded.has_sip_password, fax_in = excluded.fax_in, has_pin = excluded.has_pin,
                timezone = excluded.timezone, announcement_url = excluded.announcement_url,
                provider = excluded.provider, external_phonenumber = excluded.external_phonenumber,
                upstream_state = 'present', updated_at = excluded.updated_at, raw_json = excluded.raw_json,
                user_id = excluded.user_id",
            params![
                e.id,
                e.alias,
                e.kind,
                e.resource_url,
                e.dnd,
                e.outgoing_number,
                e.register_url,
                e.outbound_proxy_url,
                e.has_sip_password,
                e.fax_in,
                e.has_pin,
                e.timezone,
                e.announcement_url,
                e.provider,
                e.external_phonenumber,
                now,
                e.raw_json,
                e.user_id
            ],
        )?;
        conn.execute(
            "DELETE FROM mirror_extension_numbers WHERE extension_id = ?1",
            [&e.id],
        )?;
        for (kind, numbers) in [
            ("incoming", &e.incoming_numbers),
            ("direct_dial", &e.direct_dial_numbers),
        ] {
            for number in numbers {
                conn.execute(
                    "INSERT INTO mirror_extension_numbers (extension_id, kind, number_e164) VALUES (?1, ?2, ?3)
                     ON CONFLICT DO NOTHING",
                    params![e.id, kind, number],
                )?;
            }
        }
        conn.execute(
            "DELETE FROM mirror_extension_devices WHERE extension_id = ?1",
            [&e.id],
        )?;
        for (device, raw) in &e.devices {
            conn.execute(
                "INSERT INTO mirror_extension_devices (extension_id, device_id, raw_json) VALUES (?1, ?2, ?3)
                 ON CONFLICT DO NOTHING",
                params![e.id, device, raw],
            )?;
        }
    }
    if !sweep {
        return Ok((new, changed, 0));
    }
    let ids: Vec<&str> = extensions.iter().map(|e| e.id.as_str()).collect();
    let mut gone = Vec::new();
    {
        let mut stmt = conn.prepare(
            "SELECT extension_id FROM mirror_extensions WHERE upstream_state = 'present'",
        )?;
        for id in stmt.query_map([], |r| r.get::<_, String>(0))? {
            let id = id?;
            if !ids.contains(&id.as_str()) {
                gone.push(id);
            }
        }
    }
    for id in &gone {
        conn.execute(
            "UPDATE mirror_extensions SET upstream_state = 'deleted', updated_at = ?2 WHERE extension_id = ?1",
            params![id, now],
        )?;
    }
    Ok((new, changed, gone.len() as u64))
}

/// currency, total, VAT, vouchers: what makes one balance differ from another.
type HistoryRow = (Option<String>, Option<f64>, Option<f64>, String);

/// How storing the balance changed the mirror.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BalanceChange {
    /// The first balance the mirror has seen.
    First,
    Changed,
    Unchanged,
}

/// Stores the balance; appends to the history when it differs from the last entry.
pub fn store_balance(conn: &Connection, b: &BalanceRecord, now: &str) -> Result<BalanceChange> {
    conn.execute(
        "INSERT INTO mirror_balance (id, currency, total_including_vat, vat_percent, updated_at, raw_json, amount_units)
         VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (id) DO UPDATE SET currency = excluded.currency, total_including_vat = excluded.total_including_vat,
           vat_percent = excluded.vat_percent, updated_at = excluded.updated_at, raw_json = excluded.raw_json,
           amount_units = excluded.amount_units",
        params![b.currency, b.total_including_vat, b.vat_percent, now, b.raw_json, b.amount_units],
    )?;
    conn.execute("DELETE FROM mirror_balance_vouchers", [])?;
    for (kind, vouchers) in &b.vouchers {
        for (position, [redeem, end, init, used, left]) in vouchers.iter().enumerate() {
            conn.execute(
                "INSERT INTO mirror_balance_vouchers (kind, position, redeem_date, end_of_validity, credits_init,
                   credits_used, credits_left) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![kind, position as i64, redeem, end, init, used, left],
            )?;
        }
    }
    let last: Option<HistoryRow> = conn
        .query_row(
            "SELECT currency, total_including_vat, vat_percent, vouchers_json FROM mirror_balance_history
             ORDER BY id DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .ok();
    let current = (
        b.currency.clone(),
        b.total_including_vat,
        b.vat_percent,
        b.vouchers_json.clone(),
    );
    if last.as_ref() == Some(&current) {
        return Ok(BalanceChange::Unchanged);
    }
    conn.execute(
        "INSERT INTO mirror_balance_history (observed_at, currency, total_including_vat, vat_percent, vouchers_json,
           amount_units)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![now, b.currency, b.total_including_vat, b.vat_percent, b.vouchers_json, b.amount_units],
    )?;
    Ok(if last.is_none() {
        BalanceChange::First
    } else {
        BalanceChange::Changed
    })
}
