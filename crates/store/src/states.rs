//! Status columns read into their lifecycle enums at the row: a word the enum does not
//! know is a corrupt row, said as such, never a string passed on.

use crate::StoreError;
use sqlx::any::AnyRow;
use sqlx::Row;

/// The column `column` of `r`, parsed by `parse` (an enum's `parse`).
pub(crate) fn state<T>(
    r: &AnyRow,
    column: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<T, StoreError> {
    let text: String = r.try_get(column)?;
    parse(&text).ok_or_else(|| StoreError::Corrupt(format!("{column}: unknown state {text:?}")))
}
