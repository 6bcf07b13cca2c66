//! Phone numbers: parsed with libphonenumber's metadata (the `phonenumber` crate), stored
//! in E.164, and written out in the formats partners ask for.

use crate::partner::PhoneFormat;
use phonenumber::country::Id;
use phonenumber::{Mode, PhoneNumber};

/// Parses what a person typed (`030 1234567`, `+49 30 1234567`, `0049301234567`), with the
/// lead's market as the region for national-format numbers. `None` if it is not a valid
/// number.
pub fn parse(input: &str, region: Option<&str>) -> Option<PhoneNumber> {
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
    let number = phonenumber::parse(region, input).ok()?;
    phonenumber::is_valid(&number).then_some(number)
}

/// E.164, e.g. `+4915112345678`.
pub fn to_e164(input: &str, region: Option<&str>) -> Option<String> {
    parse(input, region).map(|n| n.format().mode(Mode::E164).to_string())
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
    fn invalid_numbers_are_refused() {
        for (region, typed) in [
            ("DE", "12"),
            ("DE", "not a phone"),
            ("GB", "07700"),
            ("GB", "07700 900123"), // Ofcom's range for drama: never a real number
            ("ES", "+34 1"),
        ] {
            assert_eq!(to_e164(typed, Some(region)), None, "{region} {typed}");
        }
        assert_eq!(
            to_e164("0151 12345678", None),
            None,
            "national form needs a region"
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
