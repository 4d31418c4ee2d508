//! A contact as the mirror stores it.

/// One contact line with its structured parts, as `mirror_contact_entries` stores it.
#[derive(Debug, Clone, Default)]
pub struct EntryRecord {
    pub entry_name: String,
    pub entry_group: Option<String>,
    pub types: String,
    pub value: Option<String>,
    pub local_value: Option<String>,
    /// po_box, extended, street, city, region, country
    /// po box, extended, street, city, region, postal code, country
    pub address: [Option<String>; 7],
    /// family, given, middle, prefixes, suffixes
    pub name: [Option<String>; 5],
    pub lat: Option<String>,
    pub long: Option<String>,
    pub org_name: Option<String>,
    /// JSON array, for ORG.
    pub org_units: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ContactRecord {
    pub uuid: String,
    pub valid_from: Option<String>,
    pub owner: Option<String>,
    pub formatted_name: Option<String>,
    pub family_name: Option<String>,
    pub given_name: Option<String>,
    pub organization: Option<String>,
    pub content_hash: String,
    pub raw_json: String,
    pub entries: Vec<EntryRecord>,
    /// (position of the TEL entry, number key, types)
    pub numbers: Vec<(usize, String, String)>,
    /// v2 `scope`: PRIVATE, SHARED, INTERNAL.
    pub scope: Option<String>,
}
