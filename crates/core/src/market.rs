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
