//! Phone numbers: parsed with libphonenumber's metadata (the `phonenumber` crate), stored
//! in E.164, and written out in the formats partners ask for.

use phonenumber::country::Id;
use phonenumber::metadata::DATABASE;
use phonenumber::{Mode, PhoneNumber};
use serde::{Deserialize, Serialize};

/// How a partner wants phone numbers written: the guide's three formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PhoneFormat {
    International,
    National,
    Local,
}

impl PhoneFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            PhoneFormat::International => "international",
            PhoneFormat::National => "national",
            PhoneFormat::Local => "local",
        }
    }

    /// `international`, `National`, or the guide's labels (`International (+1234567890)`).
    pub fn parse(s: &str) -> Option<Self> {
        let word: String = s
            .trim()
            .chars()
            .take_while(|c| c.is_ascii_alphabetic())
            .collect::<String>()
            .to_ascii_lowercase();
        match word.as_str() {
            "international" | "e164" => Some(PhoneFormat::International),
            "national" => Some(PhoneFormat::National),
            "local" => Some(PhoneFormat::Local),
            _ => None,
        }
    }
}

/// A phone number we keep: E.164, and whether libphonenumber knows its range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone {
    /// E.164, e.g. `+4915112345678`.
    pub e164: String,
    /// `false` for a number of a possible length whose range libphonenumber does not know
    /// (such as the guide's `+491234567890`): kept, and flagged so that a partner taking
    /// valid phones only is not sent it.
    pub valid: bool,
}

/// Parses what a person typed (`030 1234567`, `+49 30 1234567`, `0049301234567`), with the
/// lead's market as the region for national-format numbers. `None` if it does not parse or
/// its length is impossible for its country; a number of a possible length is kept even
/// when its range is unknown, with `valid: false`.
pub fn parse(input: &str, region: Option<&str>) -> Option<Phone> {
    let region: Option<Id> = region.and_then(|r| r.parse().ok());
    let trimmed = input.trim();
    let cleaned;
    // `0049…` is how many Europeans write the international prefix.
    let input = match trimmed.strip_prefix("00") {
        Some(rest) if rest.starts_with(|c: char| c.is_ascii_digit() && c != '0') => {
            cleaned = format!("+{rest}");
            cleaned.as_str()
        }
        _ => trimmed,
    };
    // Letters are not a phone number, whatever a keypad makes of them.
    if input.chars().any(char::is_alphabetic) {
        return None;
    }
    let mut number = phonenumber::parse(region, input).ok()?;
    let mut e164 = number.format().mode(Mode::E164).to_string();
    // What is stored must read back as itself (dedupe compares it, partners' formats
    // re-read it): a national part that kept a trunk `0` (`00049 30 1234567` in Germany
    // gives `+49 049…`) loses it when read again, so it is read again now.
    if let Some(again) = phonenumber::parse(None, &e164)
        .ok()
        .filter(|again| again.format().mode(Mode::E164).to_string() != e164)
    {
        e164 = again.format().mode(Mode::E164).to_string();
        number = again;
    }
    // E.164 has at most 15 digits, whatever lengths a country's plan lists.
    if e164.len() > 16 {
        return None;
    }
    let valid = phonenumber::is_valid(&number);
    if !valid && !possible_length(&number) {
        return None;
    }
    Some(Phone { e164, valid })
}

/// Whether the national number has a length that some number of its country code has.
fn possible_length(number: &PhoneNumber) -> bool {
    let national = number.national().to_string();
    let len = national.len() as u16;
    let Some(regions) = DATABASE.by_code(&number.code().value()) else {
        return false;
    };
    regions.iter().any(|meta| {
        let d = meta.descriptors();
        // The metadata lists lengths per kind of number; the general entry is often empty.
        [
            Some(d.general()),
            d.fixed_line(),
            d.mobile(),
            d.toll_free(),
            d.premium_rate(),
            d.shared_cost(),
            d.personal_number(),
            d.voip(),
            d.pager(),
            d.uan(),
            d.voicemail(),
        ]
        .into_iter()
        .flatten()
        .any(|desc| desc.possible_length().contains(&len))
    })
}

/// What a number is, by libphonenumber's metadata: `mobile`, `fixed_line`, `voip` or
/// `unknown` (numbers that may be either, as in the USA, read as `mobile`), and the
/// ISO 3166 alpha-2 code of its country (`DE`).
pub fn kind_and_country(e164: &str) -> (&'static str, Option<String>) {
    let Ok(number) = phonenumber::parse(None, e164) else {
        return ("unknown", None);
    };
    let kind = match number.number_type(&DATABASE) {
        phonenumber::Type::Mobile | phonenumber::Type::FixedLineOrMobile => "mobile",
        phonenumber::Type::FixedLine => "fixed_line",
        phonenumber::Type::Voip => "voip",
        _ => "unknown",
    };
    let country = number.country().id().map(|id| id.as_ref().to_string());
    (kind, country)
}

/// Numbers of the users' markets, national and international, read once at start.
const WARM_UP: [(&str, &str); 14] = [
    ("030 1234567", "DE"),
    ("0664 1234567", "AT"),
    ("612 345 678", "ES"),
    ("416 555 0123", "CA"),
    ("312 345 6789", "IT"),
    ("07400 123456", "GB"),
    ("412 34 567", "NO"),
    ("+49 151 12345678", "DE"),
    ("+43 664 1234567", "AT"),
    ("+34 612 345 678", "ES"),
    ("+1 416 555 0123", "CA"),
    ("+39 312 345 6789", "IT"),
    ("+44 7400 123456", "GB"),
    ("+47 412 34 567", "NO"),
];

/// Compiled patterns kept: those the users' markets' numbers use, with room to spare.
/// (phonenumber keeps 100, fewer than those markets use: a stream of leads from several
/// markets compiled the same patterns again and again, 3–7 ms a number.)
const PATTERNS_KEPT: usize = 1_024;

/// Reads libphonenumber's metadata and compiles the patterns the users' markets' numbers
/// use now (by reading a number of each, national and international), into a cache that
/// keeps them: they are compiled on first use, and the first lead with a phone would
/// otherwise wait ~100 ms, and later ones of another market a few ms. (Compiling every
/// pattern of the seven markets instead would cost 29 MB more memory for no faster
/// reading.)
pub fn warm_up() {
    {
        let cache = DATABASE.cache();
        let mut cache = cache.lock().unwrap_or_else(|e| e.into_inner());
        if cache.capacity() < PATTERNS_KEPT {
            cache.set_capacity(PATTERNS_KEPT);
        }
    }
    for (number, region) in WARM_UP {
        if let Some(p) = parse(number, Some(region)) {
            let _ = kind_and_country(&p.e164);
            let _ = format(&p.e164, PhoneFormat::Local);
        }
    }
}

/// E.164, e.g. `+4915112345678`, for a number [`parse`] keeps.
pub fn to_e164(input: &str, region: Option<&str>) -> Option<String> {
    parse(input, region).map(|p| p.e164)
}

/// The guide's three formats, for `+49 123 456 7890`:
/// `international` → `+491234567890`; `national` → `491234567890`;
/// `local` → `49-123-456-7890` (country code, then the national number in groups of 3, 3
/// and the rest).
pub fn format(e164: &str, format: PhoneFormat) -> String {
    let digits: String = e164.chars().filter(char::is_ascii_digit).collect();
    let (code, national) = match phonenumber::parse(None, format!("+{digits}")) {
        Ok(n) => {
            let code = n.code().value().to_string();
            let national = digits[code.len().min(digits.len())..].to_string();
            (code, national)
        }
        Err(_) => (String::new(), digits.clone()),
    };
    match format {
        PhoneFormat::International => format!("+{digits}"),
        PhoneFormat::National => digits,
        PhoneFormat::Local => {
            let mut parts = vec![code];
            let (a, rest) = national.split_at(national.len().min(3));
            let (b, c) = rest.split_at(rest.len().min(3));
            parts.extend(
                [a, b, c]
                    .into_iter()
                    .filter(|p| !p.is_empty())
                    .map(str::to_owned),
            );
            parts.retain(|p| !p.is_empty());
            parts.join("-")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_number_reads_back_as_itself() {
        // Found by the fuzz target `fuzz::phone_numbers`: a third leading zero made the
        // stored number `+49049301234567`, which reads back as `+4949301234567`.
        let p = parse("00049 30 1234567", Some("DE")).expect("a possible length");
        assert_eq!(p.e164, "+4949301234567");
        assert_eq!(to_e164(&p.e164, None).as_deref(), Some(p.e164.as_str()));
    }

    #[test]
    fn a_number_longer_than_e164_allows_is_refused() {
        // Found by `fuzz::phone_numbers`: 16 digits after the `+`, kept as a possible
        // length of Germany's plan.
        assert_eq!(parse("+49 100 49301234567", None), None);
        assert_eq!(parse("0049 100 49301234567", Some("DE")), None);
    }

    #[test]
    fn the_patterns_of_the_seven_markets_numbers_stay_compiled() {
        warm_up();
        let cache = DATABASE.cache();
        let kept = cache.lock().unwrap_or_else(|e| e.into_inner()).len();
        // More than phonenumber's own cache held (100: the markets' patterns pushed each
        // other out, already while the start read them), and none pushed out of ours.
        assert!(kept > 100 && kept < PATTERNS_KEPT, "{kept} patterns kept");
    }

    #[test]
    fn the_start_reads_a_valid_number_of_each_of_the_seven_markets() {
        // Each sample a real number of its market, so that warming up reads its patterns.
        for (typed, region) in WARM_UP {
            let p = parse(typed, Some(region)).unwrap_or_else(|| panic!("{typed} ({region})"));
            assert!(p.valid, "{typed} ({region}) is not a valid number");
            assert_eq!(
                kind_and_country(&p.e164).1.as_deref(),
                Some(region),
                "{typed}"
            );
        }
        warm_up();
    }

    #[test]
    fn national_numbers_of_all_seven_markets_become_e164() {
        for (region, typed, e164) in [
            ("DE", "0151 12345678", "+4915112345678"),
            ("DE", "030 1234567", "+49301234567"),
            ("AT", "0664 1234567", "+436641234567"),
            ("ES", "612 34 56 78", "+34612345678"),
            ("CA", "(416) 555-0123", "+14165550123"),
            ("IT", "312 345 6789", "+393123456789"),
            ("IT", "06 1234 5678", "+390612345678"),
            ("GB", "07911 123456", "+447911123456"),
            ("NO", "412 34 567", "+4741234567"),
        ] {
            assert_eq!(
                to_e164(typed, Some(region)).as_deref(),
                Some(e164),
                "{region} {typed}"
            );
        }
    }

    #[test]
    fn international_spellings_ignore_the_default_region() {
        assert_eq!(
            to_e164("+49 151 12345678", Some("ES")).as_deref(),
            Some("+4915112345678")
        );
        assert_eq!(
            to_e164("0049 151 12345678", Some("DE")).as_deref(),
            Some("+4915112345678")
        );
        assert_eq!(
            to_e164("+44 7911 123456", None).as_deref(),
            Some("+447911123456")
        );
    }

    #[test]
    fn unparseable_and_impossible_numbers_are_refused() {
        for (region, typed) in [
            ("DE", "12"),
            ("DE", "not a phone"),
            ("DE", "0151 CALL NOW"),
            ("GB", "07700"),
            ("ES", "+34 1"),
            ("DE", "+49 1234 5678 9012 3456 78"),
            ("NO", "+47 123"),
        ] {
            assert_eq!(parse(typed, Some(region)), None, "{region} {typed}");
        }
        assert_eq!(
            to_e164("0151 12345678", None),
            None,
            "national form needs a region"
        );
    }

    #[test]
    fn a_possible_number_of_an_unknown_range_is_kept_and_flagged() {
        // The guide's own example: twelve digits, a possible German length, no known range.
        assert_eq!(
            parse("+491234567890", Some("DE")),
            Some(Phone {
                e164: "+491234567890".into(),
                valid: false
            })
        );
        // Ofcom's range for drama: the right length, never a real number.
        assert_eq!(
            parse("07700 900123", Some("GB")),
            Some(Phone {
                e164: "+447700900123".into(),
                valid: false
            })
        );
        assert_eq!(
            parse("0151 12345678", Some("DE")),
            Some(Phone {
                e164: "+4915112345678".into(),
                valid: true
            })
        );
    }

    #[test]
    fn the_guides_three_formats() {
        let n = "+491234567890";
        assert_eq!(format(n, PhoneFormat::International), "+491234567890");
        assert_eq!(format(n, PhoneFormat::National), "491234567890");
        assert_eq!(format(n, PhoneFormat::Local), "49-123-456-7890");
        assert_eq!(format("+14165550123", PhoneFormat::Local), "1-416-555-0123");
        assert_eq!(format("+4741234567", PhoneFormat::Local), "47-412-345-67");
    }
}
