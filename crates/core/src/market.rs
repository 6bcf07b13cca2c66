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

use crate::input::{snake_case, Input, Keys};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

fn is_slug(s: &str) -> bool {
    (2..=32).contains(&s.len())
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

const MARKET_KEYS: Keys<'static> = Keys {
    normalize: snake_case,
    known: &[
        "slug",
        "iso_code",
        "name",
        "aliases",
        "phone_region",
        "phone_code",
        "default_timezone",
    ],
    read_only: &[],
};

const NICHE_KEYS: Keys<'static> = Keys {
    normalize: snake_case,
    known: &["slug", "name"],
    read_only: &[],
};

const SLUG_RULE: &str = "must be 2-32 of a-z, 0-9, _ or -, starting with a letter";
const REGION_RULE: &str = "must be a two-letter region such as FR";

/// Reads `k`, which must pass `check` (given as text, trimmed); whether absent or refused,
/// the one message `rule` says what is wanted.
fn wanted<T>(
    f: &mut Input<'_>,
    k: &str,
    rule: &str,
    check: impl FnOnce(&str) -> Option<T>,
) -> Option<T> {
    let found = f
        .raw(k)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .and_then(check);
    if found.is_none() {
        f.error(k, rule);
    }
    found
}

fn two_letters(s: &str) -> Option<String> {
    let s = s.to_ascii_uppercase();
    (s.len() == 2 && s.chars().all(|c| c.is_ascii_uppercase())).then_some(s)
}

fn slug(s: &str) -> Option<String> {
    let s = s.to_lowercase();
    is_slug(&s).then_some(s)
}

/// Checks an operator's new market: `{"slug", "iso_code", "name", "aliases"?,
/// "phone_region"?, "phone_code", "default_timezone"}`.
pub fn validate_market(obj: &Map<String, Value>) -> Result<Market, BTreeMap<String, String>> {
    let mut f = Input::read(obj, &MARKET_KEYS);
    let slug = wanted(&mut f, "slug", SLUG_RULE, slug);
    let iso = wanted(
        &mut f,
        "iso_code",
        "must be an ISO 3166-1 alpha-2 code such as FR",
        two_letters,
    );
    let name = wanted(&mut f, "name", "is required", |s| Some(s.to_string()));
    let region = match f.raw("phone_region") {
        Some(_) => wanted(&mut f, "phone_region", REGION_RULE, two_letters),
        None if iso.is_none() => {
            f.error("phone_region", REGION_RULE);
            None
        }
        None => iso.clone(),
    };
    let code = f.take(
        "phone_code",
        |v| {
            v.as_u64()
                .filter(|c| (1..=999).contains(c))
                .map(|c| c as u16)
                .ok_or_else(|| "must be a country calling code from 1 to 999".into())
        },
        |f| {
            f.error("phone_code", "must be a country calling code from 1 to 999");
            None
        },
    );
    let tz = wanted(
        &mut f,
        "default_timezone",
        "must be an IANA timezone such as Europe/Paris",
        |t| t.parse::<chrono_tz::Tz>().ok().map(|_| t.to_string()),
    );
    let aliases = f.take(
        "aliases",
        |v| match v {
            Value::Null => Ok(vec![]),
            Value::Array(a) => a
                .iter()
                .map(|x| x.as_str().map(|s| s.trim().to_lowercase()))
                .collect::<Option<Vec<String>>>()
                .ok_or_else(|| "must be a list of names".into()),
            _ => Err("must be a list of names".into()),
        },
        |_| Some(vec![]),
    );
    let market = (|| {
        Some(Market {
            slug: slug?,
            iso_code: iso?,
            name: name?,
            aliases: aliases?,
            phone_region: region?,
            phone_code: code?,
            default_timezone: tz?,
        })
    })();
    f.finish(market)
}

/// Checks an operator's new niche: `{"slug", "name"?}`.
pub fn validate_niche(obj: &Map<String, Value>) -> Result<Niche, BTreeMap<String, String>> {
    let mut f = Input::read(obj, &NICHE_KEYS);
    let slug = wanted(&mut f, "slug", SLUG_RULE, slug);
    let name = f
        .raw("name")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    let niche = slug.map(|slug| {
        let name = name.unwrap_or_else(|| {
            let mut c = slug.chars();
            c.next()
                .map_or_else(String::new, |f| f.to_uppercase().chain(c).collect())
        });
        Niche { slug, name }
    });
    f.finish(niche)
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
