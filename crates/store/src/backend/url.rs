//! `DATABASE_URL`: which backend, and the exact URL to hand the driver.

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        })
    }
}

/// A validated database URL. Its `Display` hides any password, so it is safe to log.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    raw: String,
    backend: Backend,
}

pub const DEFAULT_DATABASE_URL: &str = "sqlite://leadrouter.db";

impl DatabaseUrl {
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// For SQLite, the file path as written after the scheme.
    pub fn sqlite_path(&self) -> Option<&str> {
        match self.backend {
            Backend::Sqlite => {
                let rest = self
                    .raw
                    .strip_prefix("sqlite://")
                    .or_else(|| self.raw.strip_prefix("sqlite:"))?;
                Some(rest.split('?').next().unwrap_or(rest))
            }
            Backend::Postgres => None,
        }
    }

    /// The URL handed to the driver: for SQLite, with `mode=rwc` so a missing file is
    /// created (an explicit `mode` in the URL wins).
    pub(crate) fn connect_url(&self) -> String {
        match self.backend {
            Backend::Sqlite if !self.raw.contains("mode=") => {
                let sep = if self.raw.contains('?') { '&' } else { '?' };
                format!("{}{sep}mode=rwc", self.raw)
            }
            _ => self.raw.clone(),
        }
    }

    /// The raw URL, secrets included; only for handing to a driver or a child process.
    pub fn expose(&self) -> &str {
        &self.raw
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DatabaseUrlError {
    #[error("unsupported scheme \"{0}\" (use sqlite://PATH or postgres://...)")]
    UnsupportedScheme(String),
    #[error("not a URL (use sqlite://PATH or postgres://...)")]
    NotAUrl,
    #[error("sqlite URL names no file")]
    EmptySqlitePath,
    #[error("postgres URL names no host")]
    EmptyPostgresHost,
}

impl FromStr for DatabaseUrl {
    type Err = DatabaseUrlError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let (scheme, rest) = s.split_once(':').ok_or(DatabaseUrlError::NotAUrl)?;
        let backend = match scheme.to_ascii_lowercase().as_str() {
            "sqlite" => Backend::Sqlite,
            "postgres" | "postgresql" => Backend::Postgres,
            "" => return Err(DatabaseUrlError::NotAUrl),
            other => return Err(DatabaseUrlError::UnsupportedScheme(other.to_string())),
        };
        match backend {
            Backend::Sqlite => {
                let path = rest.trim_start_matches("//");
                let path = path.split('?').next().unwrap_or("");
                if path.is_empty() {
                    return Err(DatabaseUrlError::EmptySqlitePath);
                }
            }
            Backend::Postgres => {
                let after = rest
                    .strip_prefix("//")
                    .ok_or(DatabaseUrlError::EmptyPostgresHost)?;
                let authority = after.split(['/', '?']).next().unwrap_or("");
                let host = authority.rsplit('@').next().unwrap_or("");
                if host.is_empty() && !after.contains("host=") {
                    return Err(DatabaseUrlError::EmptyPostgresHost);
                }
            }
        }
        Ok(DatabaseUrl {
            raw: s.to_string(),
            backend,
        })
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.backend {
            Backend::Sqlite => f.write_str(&self.raw),
            Backend::Postgres => f.write_str(&redacted(&self.raw)),
        }
    }
}

/// Query parameters libpq reads secrets from.
const SECRET_PARAMS: &[&str] = &["password", "sslpassword", "sslkey"];

/// The URL parsed as a URL (not split at the first `@`), with the password of the userinfo
/// and every secret query parameter shown as `***`. Anything that does not parse is hidden
/// whole but for its scheme.
fn redacted(raw: &str) -> String {
    let Ok(mut url) = url::Url::parse(raw) else {
        let scheme = raw.split(':').next().unwrap_or("postgres");
        return format!("{scheme}://***");
    };
    if url.password().is_some() {
        let _ = url.set_password(Some("***"));
    }
    if url.query().is_some() {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let secret = SECRET_PARAMS.contains(&k.to_ascii_lowercase().as_str());
                (
                    k.into_owned(),
                    if secret { "***".into() } else { v.into_owned() },
                )
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    // `set_password` percent-encodes; show the mask as written.
    url.to_string().replace("%2A%2A%2A", "***")
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_an_sqlite_file_created_if_missing() {
        let url: DatabaseUrl = DEFAULT_DATABASE_URL.parse().unwrap();
        assert_eq!(url.backend(), Backend::Sqlite);
        assert_eq!(url.sqlite_path(), Some("leadrouter.db"));
        assert_eq!(url.connect_url(), "sqlite://leadrouter.db?mode=rwc");
    }

    #[test]
    fn both_postgres_spellings_are_postgres() {
        for u in [
            "postgres://u@h/db",
            "postgresql://u:p@h:5432/db",
            "POSTGRES://h/db",
        ] {
            assert_eq!(
                u.parse::<DatabaseUrl>().unwrap().backend(),
                Backend::Postgres,
                "{u}"
            );
        }
    }

    #[test]
    fn unsupported_scheme_is_named() {
        let err = "mysql://u@h/db".parse::<DatabaseUrl>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unsupported scheme \"mysql\" (use sqlite://PATH or postgres://...)"
        );
    }

    #[test]
    fn garbage_and_empty_parts_are_refused() {
        assert_eq!(
            "leadrouter.db".parse::<DatabaseUrl>(),
            Err(DatabaseUrlError::NotAUrl)
        );
        assert_eq!(
            "sqlite://".parse::<DatabaseUrl>(),
            Err(DatabaseUrlError::EmptySqlitePath)
        );
        assert_eq!(
            "postgres://".parse::<DatabaseUrl>(),
            Err(DatabaseUrlError::EmptyPostgresHost)
        );
    }

    #[test]
    fn display_hides_the_password() {
        let url: DatabaseUrl = "postgres://app:s3cret@db.internal:5432/leads"
            .parse()
            .unwrap();
        assert_eq!(url.to_string(), "postgres://app:***@db.internal:5432/leads");
        assert!(!format!("{url:?}").contains("s3cret"));
    }

    #[test]
    fn display_hides_passwords_in_the_query_and_after_an_at_sign() {
        for (raw, secret) in [
            ("postgres://app@db.internal/leads?password=s3cret", "s3cret"),
            (
                "postgres://db.internal/leads?sslmode=require&PASSWORD=s3cret",
                "s3cret",
            ),
            ("postgres://app:p%40ss@db.internal/leads", "p%40ss"),
            ("postgres://app:p@ss@db.internal/leads", "ss@db"),
            ("postgresql://app@db/leads?sslpassword=keypass", "keypass"),
        ] {
            let url: DatabaseUrl = raw.parse().unwrap();
            let shown = url.to_string();
            assert!(!shown.contains(secret), "{raw} shown as {shown}");
            assert!(shown.contains("***"), "{raw} shown as {shown}");
            assert!(!format!("{url:?}").contains(secret));
        }
        let url: DatabaseUrl = "postgres://app@db/leads?sslmode=require".parse().unwrap();
        assert_eq!(url.to_string(), "postgres://app@db/leads?sslmode=require");
    }
}
