//! Word lists for generated data: realistic German and international names, and the hostile
//! values that break naive exporters (`&`, `<`, quotes, separators, line breaks, emoji, control
//! characters, path-like names, very long strings).

pub const GIVEN_NAMES: &[&str] = &[
    "Jürgen",
    "Björn",
    "Günther",
    "Käthe",
    "Jörg",
    "Sören",
    "Anneliese",
    "Maximilian",
    "Lena",
    "Lukas",
    "Sophie",
    "Felix",
    "Hannah",
    "Paul",
    "Marie",
    "Ömer",
    "Özlem",
    "Zoë",
    "François",
    "José",
    "Łukasz",
    "Søren",
    "Ólafur",
    "Giulia",
    "Aylin",
    "Wei",
    "Chloé",
    "Renée",
    "Ingrid",
    "Friedrich",
    "Ursula",
    "Heinz-Dieter",
    "Ana María",
    "Mateusz",
    "Dmitri",
];

pub const FAMILY_NAMES: &[&str] = &[
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weiß",
    "Schäfer",
    "Groß",
    "Köhler",
    "Bäcker",
    "Meyer-Lüdenscheidt",
    "Yılmaz",
    "Nowak",
    "Rossi",
    "García",
    "Dubois",
    "Jensen",
    "Novák",
    "Papadopoulos",
    "王",
    "Иванов",
    "O'Connor",
    "van der Berg",
    "de la Cruz",
    "Straßburger",
    "Hoffmann",
    "Krüger",
    "Wagner",
    "Becker",
    "Öztürk",
    "Łęcki",
];

pub const PREFIXES: &[&str] = &["Dr.", "Prof.", "Prof. Dr.", "Dipl.-Ing."];

pub const COMPANIES: &[&str] = &[
    "Beispiel GmbH & Co. KG",
    "Müller Bau AG",
    "Praxis Dr. Weiß",
    "Autohaus Köhler",
    "Bäckerei Groß",
    "ACME Corp.",
    "Café Zürich",
    "Stadtwerke Düsseldorf",
    "Kanzlei Schäfer, Fischer & Partner",
    "Straßen- und Tiefbau <Nord> e.V.",
];

pub const UNITS: &[&str] = &[
    "Vertrieb",
    "Buchhaltung",
    "Einkauf",
    "IT",
    "Geschäftsführung",
];

pub const STREETS: &[&str] = &[
    "Hauptstraße 1",
    "Königsallee 27",
    "Schloßstraße 5a",
    "Am Rhein 12",
    "Friedrichstraße 100",
    "Rue de la Paix 3",
    "Bahnhofstr. 7",
    "Via Roma 21",
];

/// The postal code of each of [`CITIES`], by position.
pub const POSTAL_CODES: &[&str] = &[
    "10115", "40213", "80331", "50667", "20095", "8001", "1010", "75001",
];

pub const CITIES: &[(&str, &str, &str)] = &[
    ("Berlin", "Berlin", "Deutschland"),
    ("Düsseldorf", "NRW", "Deutschland"),
    ("München", "Bayern", "Deutschland"),
    ("Köln", "NRW", "Deutschland"),
    ("Hamburg", "Hamburg", "Deutschland"),
    ("Zürich", "ZH", "Schweiz"),
    ("Wien", "Wien", "Österreich"),
    ("Paris", "Île-de-France", "France"),
];

/// Hostile display names, each a trap for some exporter.
pub const HOSTILE_NAMES: &[&str] = &[
    "Müller & Söhne <GmbH>",
    "📞 Hotline 🚀 Support",
    "O'Brien \"The Boss\"",
    "Smith, John; Jr. \\ Esq.",
    "Zeile 1\nZeile 2",
    "../../etc/passwd",
    "Bell\u{7}Character",
    "مرحبا بكم",
];

pub const LONG_WORD: &str = "Donaudampfschifffahrtsgesellschaftskapitänswitwe ";

pub const NOTES: &[&str] = &[
    "Rückruf nur vormittags",
    "Zeile 1\nZeile 2, mit Komma; und Semikolon",
    "Ansprechpartnerin für Rechnungen & Mahnungen <wichtig>",
    "Backslash \\ und \"Anführungszeichen\"",
    "🎉 Stammkunde seit 2009",
];

pub const LABELS: &[&str] = &[
    "wichtig",
    "kunde",
    "rückruf",
    "privat",
    "buchhaltung",
    "lieferant",
];

pub const SMS_TEXTS: &[&str] = &[
    "Bin in 10 Minuten da.",
    "Bitte um Rückruf, danke!",
    "Termin morgen um 14 Uhr bestätigt ✅",
    "Ihr Paket kommt heute zwischen 10 und 14 Uhr.",
    "Danke & bis morgen <3",
    "Meeting moved to 3pm; see \"agenda\", ok?",
    "Zeile eins\nZeile zwei",
    "Können Sie mir die Rechnung Nr. 2024/117 noch einmal schicken?",
    "Grüße aus Köln 🌧️",
];

pub const TRANSCRIPTIONS: &[&str] = &[
    "Hallo, hier ist die Praxis, bitte rufen Sie uns zurück.",
    "Guten Tag, es geht um Ihre Bestellung, bitte melden Sie sich.",
    "Hi, it's me, call me back when you can.",
    "Ja, hallo? Hallo? … na gut, ich versuche es später noch einmal.",
    "Hier spricht der Kundendienst; Ihr Termin am Donnerstag muss leider verschoben werden.",
];

pub const FAX_FAIL_REASONS: &[&str] = &[
    "busy",
    "no_answer",
    "line_error",
    "invalid_number",
    "rejected",
];

/// (country code, area code, subscriber digits) for external landlines.
pub const AREAS: &[(&str, &str, usize)] = &[
    ("49", "30", 8),
    ("49", "40", 7),
    ("49", "89", 7),
    ("49", "221", 7),
    ("49", "211", 6),
    ("49", "69", 7),
    ("49", "711", 6),
    ("49", "6221", 5),
    ("43", "1", 7),
    ("41", "44", 7),
    ("1", "212", 7),
    ("44", "20", 8),
    ("33", "1", 8),
];

pub const MOBILE_PREFIXES: &[&str] = &["151", "160", "170", "171", "176", "1520", "157"];
