//! v2 contacts: `GET /contacts` (`{items, totalCount}`, all scopes mixed), each contact turned
//! into the vCard-like entries the classic API sent, so the exporters need no change.

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::api::events::null_as_empty;
use crate::api::{ApiError, ApiErrorKind, Client, parse_json};
use crate::numbers::number_key;
use crate::records::contact::ContactRecord;
use crate::records::contact::EntryRecord;

#[derive(Deserialize)]
struct Page {
    items: Vec<Box<RawValue>>,
    #[serde(rename = "totalCount")]
    total_count: u64,
}

#[derive(Debug, Deserialize)]
struct WireContact {
    id: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    picture: Option<String>,
    #[serde(default, deserialize_with = "null_as_empty")]
    emails: Vec<WireEmail>,
    #[serde(default, deserialize_with = "null_as_empty")]
    numbers: Vec<WireNumber>,
    #[serde(default, deserialize_with = "null_as_empty")]
    addresses: Vec<WireAddress>,
    #[serde(default, deserialize_with = "null_as_empty")]
    organization: Vec<Vec<String>>,
    #[serde(default)]
    scope: Option<String>,
}

#[derive(Debug, Deserialize)]
struct WireEmail {
    #[serde(default)]
    email: Option<String>,
    #[serde(default, rename = "type", deserialize_with = "null_as_empty")]
    types: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct WireNumber {
    #[serde(default)]
    number: Option<String>,
    #[serde(default, rename = "type", deserialize_with = "null_as_empty")]
    types: Vec<String>,
}

#[derive(Debug, Deserialize, Default)]
struct WireAddress {
    #[serde(default, rename = "poBox")]
    po_box: Option<String>,
    #[serde(default, rename = "extendedAddress")]
    extended: Option<String>,
    #[serde(default, rename = "streetAddress")]
    street: Option<String>,
    #[serde(default)]
    locality: Option<String>,
    #[serde(default)]
    region: Option<String>,
    #[serde(default, rename = "postalCode")]
    postal_code: Option<String>,
    #[serde(default)]
    country: Option<String>,
}

impl Client {
    /// One page of contacts, as records, and the total.
    pub(crate) async fn v2_contact_page(
        &self,
        offset: u64,
        limit: u64,
        country_code: &str,
    ) -> Result<(Vec<ContactRecord>, u64), ApiError> {
        let query = [("offset", offset.to_string()), ("limit", limit.to_string())];
        let page: Page = self.get_json("contacts", &query).await?;
        let records = page
            .items
            .iter()
            .enumerate()
            .map(|(i, raw)| to_record(raw, offset + i as u64, country_code))
            .collect::<Result<Vec<_>, ApiError>>()?;
        Ok((records, page.total_count))
    }
}

fn entry(name: &str, value: Option<String>, types: &[String]) -> EntryRecord {
    EntryRecord {
        entry_name: name.to_string(),
        entry_group: None,
        types: types
            .iter()
            .map(|t| t.trim().to_ascii_uppercase())
            .filter(|t| !t.is_empty())
            .collect::<Vec<_>>()
            .join(","),
        value,
        local_value: None,
        address: Default::default(),
        name: Default::default(),
        lat: None,
        long: None,
        org_name: None,
        org_units: None,
    }
}

fn nonempty(text: &Option<String>) -> Option<String> {
    text.as_ref()
        .map(|t| t.trim())
        .filter(|t| !t.is_empty())
        .map(str::to_string)
}

/// One v2 contact as the mirror's record: FN from `name`, TEL and EMAIL with their types, ADR
/// (the postal code, which the entries have no column for, stays in `raw_json`), ORG and PHOTO.
pub(crate) fn to_record(
    raw: &RawValue,
    index: u64,
    country_code: &str,
) -> Result<ContactRecord, ApiError> {
    let what = format!("contacts item {index}");
    let c: WireContact = parse_json(raw.get().as_bytes()).map_err(|e| e.context(&what))?;
    if c.id.trim().is_empty() {
        return Err(ApiError::new(
            ApiErrorKind::Permanent,
            format!("{what}: the id is empty"),
        ));
    }
    let name = nonempty(&c.name);
    let organization = c
        .organization
        .first()
        .and_then(|parts| parts.first())
        .map(|o| o.trim().to_string())
        .filter(|o| !o.is_empty());
    let mut entries = Vec::new();
    if let Some(name) = &name {
        entries.push(entry("FN", Some(name.clone()), &[]));
    }
    let mut numbers = Vec::new();
    for n in &c.numbers {
        let Some(number) = nonempty(&n.number) else {
            continue;
        };
        if let Some(key) = number_key(&number, country_code) {
            let tel = entry("TEL", Some(number), &n.types);
            numbers.push((entries.len(), key, tel.types.clone()));
            entries.push(tel);
        } else {
            entries.push(entry("TEL", Some(number), &n.types));
        }
    }
    for e in &c.emails {
        if let Some(email) = nonempty(&e.email) {
            entries.push(entry("EMAIL", Some(email), &e.types));
        }
    }
    for a in &c.addresses {
        let mut adr = entry("ADR", None, &[]);
        adr.address = [
            nonempty(&a.po_box),
            nonempty(&a.extended),
            nonempty(&a.street),
            nonempty(&a.locality),
            nonempty(&a.region),
            nonempty(&a.postal_code),
            nonempty(&a.country),
        ];
        if adr.address.iter().any(Option::is_some) {
            entries.push(adr);
        }
    }
    for parts in &c.organization {
        let Some((first, units)) = parts.split_first() else {
            continue;
        };
        let mut org = entry("ORG", None, &[]);
        org.org_name = Some(first.clone());
        org.org_units =
            (!units.is_empty()).then(|| serde_json::to_string(units).unwrap_or_default());
        entries.push(org);
    }
    if let Some(picture) = nonempty(&c.picture) {
        entries.push(entry("PHOTO", Some(picture), &["JPEG".to_string()]));
    }
    Ok(ContactRecord {
        uuid: c.id.clone(),
        valid_from: None,
        owner: None,
        formatted_name: name.or(organization.clone()),
        family_name: None,
        given_name: None,
        organization,
        content_hash: crate::fsutil::sha256_hex(raw.get().as_bytes()),
        raw_json: raw.get().to_string(),
        entries,
        numbers,
        scope: c.scope.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reference_contact_becomes_entries() {
        let raw = RawValue::from_string(
            r#"{"id":"b3d9af4a-78f9-11e6-8b77-86f30ca893d3","name":"Ada Lovelace","picture":null,
            "emails":[{"email":"user@example.com","type":["work"]}],
            "numbers":[{"number":"+4915799912345","type":["cell"]},{"number":"","type":[]}],
            "addresses":[{"poBox":"","extendedAddress":"","streetAddress":"Main St 1","locality":"Berlin",
                          "region":"","postalCode":"10115","country":"DE"}],
            "organization":[["Company","Department"]],"scope":"PRIVATE"}"#
                .to_string(),
        )
        .expect("json");
        let c = to_record(&raw, 0, "49").expect("parses");
        assert_eq!(c.formatted_name.as_deref(), Some("Ada Lovelace"));
        assert_eq!(c.organization.as_deref(), Some("Company"));
        assert_eq!(c.scope.as_deref(), Some("PRIVATE"));
        let names: Vec<&str> = c.entries.iter().map(|e| e.entry_name.as_str()).collect();
        assert_eq!(names, ["FN", "TEL", "EMAIL", "ADR", "ORG"]);
        assert_eq!(c.entries[1].types, "CELL");
        assert_eq!(
            c.numbers,
            vec![(1, "4915799912345".to_string(), "CELL".to_string())]
        );
    }

    #[test]
    fn a_contact_without_an_id_is_refused() {
        let raw = RawValue::from_string(r#"{"id":" ","name":"x"}"#.to_string()).expect("json");
        assert!(
            to_record(&raw, 4, "49")
                .unwrap_err()
                .message
                .contains("item 4")
        );
    }
}
