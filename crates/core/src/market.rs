//! Markets (countries we sell leads in) and niches are data that operators extend; these
//! are their plain shapes.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Market {
    /// Stored and sent form, e.g. `germany`.
    pub slug: String,
    /// ISO 3166-1 alpha-2, upper case, e.g. `DE`.
    pub iso_code: String,
    pub name: String,
    /// Other names people write for it (`Deutschland`, `Great Britain`), lower case.
    pub aliases: Vec<String>,
    /// Region whose numbering plan parses national phone numbers, e.g. `DE`.
    pub phone_region: String,
    /// Country calling code, e.g. 49.
    pub phone_code: u16,
    /// IANA timezone a partner in this market gets when it names none.
    pub default_timezone: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Niche {
    pub slug: String,
    pub name: String,
}

use serde_json::{Map, Value};
use std::collections::BTreeMap;

fn is_slug(s: &str) -> bool {
    (2..=32).contains(&s.len())
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

fn text(obj: &Map<String, Value>, k: &str) -> Option<String> {
    obj.get(k)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// Checks an operator's new market: `{"slug", "iso_code", "name", "aliases"?,
/// "phone_region"?, "phone_code", "default_timezone"}`.
pub fn validate_market(obj: &Map<String, Value>) -> Result<Market, BTreeMap<String, String>> {
    let mut errors = BTreeMap::new();
    let slug = text(obj, "slug").map(|s| s.to_lowercase());
    if !slug.as_deref().is_some_and(is_slug) {
        errors.insert(
            "slug".into(),
            "must be 2-32 of a-z, 0-9, _ or -, starting with a letter".into(),
        );
    }
    let iso = text(obj, "iso_code").map(|s| s.to_ascii_uppercase());
    let two_letters = |s: &str| s.len() == 2 && s.chars().all(|c| c.is_ascii_uppercase());
    if !iso.as_deref().is_some_and(two_letters) {
        errors.insert(
            "iso_code".into(),
            "must be an ISO 3166-1 alpha-2 code such as FR".into(),
        );
    }
    let name = text(obj, "name");
    if name.is_none() {
        errors.insert("name".into(), "is required".into());
    }
    let region = text(obj, "phone_region")
        .map(|s| s.to_ascii_uppercase())
        .or(iso.clone());
    if !region.as_deref().is_some_and(two_letters) {
        errors.insert(
            "phone_region".into(),
            "must be a two-letter region such as FR".into(),
        );
    }
    let code = obj
        .get("phone_code")
        .and_then(Value::as_u64)
        .filter(|c| (1..=999).contains(c));
    if code.is_none() {
        errors.insert(
            "phone_code".into(),
            "must be a country calling code from 1 to 999".into(),
        );
    }
    let tz = text(obj, "default_timezone");
    if tz
        .as_deref()
        .and_then(|t| t.parse::<chrono_tz::Tz>().ok())
        .is_none()
    {
        errors.insert(
            "default_timezone".into(),
            "must be an IANA timezone such as Europe/Paris".into(),
        );
    }
    let aliases: Option<Vec<String>> = match obj.get("aliases") {
        None | Some(Value::Null) => Some(vec![]),
        Some(Value::Array(a)) => a
            .iter()
            .map(|x| x.as_str().map(|s| s.trim().to_lowercase()))
            .collect(),
        _ => None,
    };
    if aliases.is_none() {
        errors.insert("aliases".into(), "must be a list of names".into());
    }
    for k in obj.keys() {
        let known = [
            "slug",
            "iso_code",
            "name",
            "aliases",
            "phone_region",
            "phone_code",
            "default_timezone",
        ];
        if !known.contains(&k.as_str()) {
            errors.insert(k.clone(), "unknown field".into());
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Market {
        slug: slug.unwrap_or_default(),
        iso_code: iso.unwrap_or_default(),
        name: name.unwrap_or_default(),
        aliases: aliases.unwrap_or_default(),
        phone_region: region.unwrap_or_default(),
        phone_code: code.unwrap_or_default() as u16,
        default_timezone: tz.unwrap_or_default(),
    })
}

/// Checks an operator's new niche: `{"slug", "name"?}`.
pub fn validate_niche(obj: &Map<String, Value>) -> Result<Niche, BTreeMap<String, String>> {
    let mut errors = BTreeMap::new();
    let slug = text(obj, "slug").map(|s| s.to_lowercase());
    if !slug.as_deref().is_some_and(is_slug) {
        errors.insert(
            "slug".into(),
            "must be 2-32 of a-z, 0-9, _ or -, starting with a letter".into(),
        );
    }
    for k in obj
        .keys()
        .filter(|k| !["slug", "name"].contains(&k.as_str()))
    {
        errors.insert(k.clone(), "unknown field".into());
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let slug = slug.unwrap_or_default();
    let name = text(obj, "name").unwrap_or_else(|| {
        let mut c = slug.chars();
        c.next()
            .map_or_else(String::new, |f| f.to_uppercase().chain(c).collect())
    });
    Ok(Niche { slug, name })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_new_market_is_validated_field_by_field() {
        let ok = validate_market(
            json!({"slug": "france", "iso_code": "fr", "name": "France",
            "aliases": ["La France"], "phone_code": 33, "default_timezone": "Europe/Paris"})
            .as_object()
            .unwrap(),
        )
        .unwrap();
        assert_eq!(
            (ok.iso_code.as_str(), ok.phone_region.as_str()),
            ("FR", "FR")
        );
        assert_eq!(ok.aliases, ["la france"]);
        let e = validate_market(
            json!({"slug": "F", "iso_code": "FRA", "phone_code": 0,
            "default_timezone": "Paris", "x": 1})
            .as_object()
            .unwrap(),
        )
        .unwrap_err();
        let keys: Vec<&str> = e.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "default_timezone",
                "iso_code",
                "name",
                "phone_code",
                "phone_region",
                "slug",
                "x"
            ]
        );
    }

    #[test]
    fn a_new_niche_gets_a_display_name() {
        let n = validate_niche(json!({"slug": "crypto"}).as_object().unwrap()).unwrap();
        assert_eq!((n.slug.as_str(), n.name.as_str()), ("crypto", "Crypto"));
        assert!(validate_niche(json!({"slug": "Crypto Coins"}).as_object().unwrap()).is_err());
    }
}
