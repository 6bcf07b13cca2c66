//! Markets and niches as one lookup table: countries are accepted by slug (`germany`), ISO
//! code (`DE`, `de`) or a common name (`Deutschland`, `Great Britain`).

use crate::market::{Market, Niche};

#[derive(Debug, Clone, Default)]
pub struct Catalog {
    markets: Vec<Market>,
    niches: Vec<Niche>,
}

/// Lower case, trimmed, inner runs of white space folded to one space.
fn fold(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

impl Catalog {
    pub fn new(markets: Vec<Market>, niches: Vec<Niche>) -> Self {
        Self { markets, niches }
    }

    pub fn markets(&self) -> &[Market] {
        &self.markets
    }

    pub fn niches(&self) -> &[Niche] {
        &self.niches
    }

    /// The market a person meant by `input`, however they spelled it.
    pub fn market(&self, input: &str) -> Option<&Market> {
        let q = fold(input);
        if q.is_empty() {
            return None;
        }
        self.markets.iter().find(|m| {
            m.slug == q
                || m.iso_code.eq_ignore_ascii_case(&q)
                || fold(&m.name) == q
                || m.aliases.iter().any(|a| fold(a) == q)
        })
    }

    pub fn market_by_slug(&self, slug: &str) -> Option<&Market> {
        self.markets.iter().find(|m| m.slug == slug)
    }

    /// The niche by slug or display name, case-insensitively.
    pub fn niche(&self, input: &str) -> Option<&Niche> {
        let q = fold(input);
        self.niches
            .iter()
            .find(|n| n.slug == q || fold(&n.name) == q)
    }

    /// The market `input` names, or why not (with the markets there are).
    pub fn known_market(&self, input: &str) -> Result<&Market, String> {
        self.market(input).ok_or_else(|| {
            format!(
                "unknown country \"{input}\" (known: {})",
                self.market_slugs()
            )
        })
    }

    /// The niche `input` names, or why not (with the niches there are).
    pub fn known_niche(&self, input: &str) -> Result<&Niche, String> {
        self.niche(input)
            .ok_or_else(|| format!("unknown niche \"{input}\" (known: {})", self.niche_slugs()))
    }

    pub fn market_slugs(&self) -> String {
        self.markets
            .iter()
            .map(|m| m.slug.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }

    pub fn niche_slugs(&self) -> String {
        self.niches
            .iter()
            .map(|n| n.slug.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The guide's seven markets and two niches, as the seed migration has them.
    pub(crate) fn guide_catalog() -> Catalog {
        let m = |slug: &str, iso: &str, name: &str, aliases: &[&str], code: u16, tz: &str| Market {
            slug: slug.into(),
            iso_code: iso.into(),
            name: name.into(),
            aliases: aliases.iter().map(|a| a.to_string()).collect(),
            phone_region: iso.into(),
            phone_code: code,
            default_timezone: tz.into(),
        };
        Catalog::new(
            vec![
                m(
                    "germany",
                    "DE",
                    "Germany",
                    &["deutschland", "deu"],
                    49,
                    "Europe/Berlin",
                ),
                m(
                    "austria",
                    "AT",
                    "Austria",
                    &["österreich", "oesterreich"],
                    43,
                    "Europe/Vienna",
                ),
                m(
                    "spain",
                    "ES",
                    "Spain",
                    &["españa", "espana"],
                    34,
                    "Europe/Madrid",
                ),
                m("canada", "CA", "Canada", &[], 1, "America/Toronto"),
                m("italy", "IT", "Italy", &["italia"], 39, "Europe/Rome"),
                m(
                    "uk",
                    "GB",
                    "United Kingdom",
                    &["great britain", "britain", "england"],
                    44,
                    "Europe/London",
                ),
                m("norway", "NO", "Norway", &["norge"], 47, "Europe/Oslo"),
            ],
            vec![
                Niche {
                    slug: "forex".into(),
                    name: "Forex".into(),
                },
                Niche {
                    slug: "recovery".into(),
                    name: "Recovery".into(),
                },
            ],
        )
    }

    #[test]
    fn countries_by_slug_iso_code_and_common_name() {
        let c = guide_catalog();
        for (input, slug) in [
            ("germany", "germany"),
            ("DE", "germany"),
            ("de", "germany"),
            ("Deutschland", "germany"),
            ("  GERMANY ", "germany"),
            ("United Kingdom", "uk"),
            ("united  kingdom", "uk"),
            ("Great Britain", "uk"),
            ("GB", "uk"),
            ("uk", "uk"),
            ("Österreich", "austria"),
            ("España", "spain"),
            ("NO", "norway"),
            ("Norge", "norway"),
            ("CA", "canada"),
            ("Italia", "italy"),
        ] {
            assert_eq!(
                c.market(input).map(|m| m.slug.as_str()),
                Some(slug),
                "{input}"
            );
        }
        for unknown in ["", "france", "FR", "germ", "us"] {
            assert!(c.market(unknown).is_none(), "{unknown}");
        }
    }

    #[test]
    fn niches_by_slug_or_name() {
        let c = guide_catalog();
        assert_eq!(c.niche("Forex").unwrap().slug, "forex");
        assert_eq!(c.niche("RECOVERY").unwrap().slug, "recovery");
        assert!(c.niche("crypto").is_none());
    }
}
