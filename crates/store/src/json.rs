//! JSON documents in TEXT columns.

use crate::StoreError;
use serde::de::DeserializeOwned;
use serde::Serialize;

pub(crate) fn to_text<T: Serialize + ?Sized>(value: &T) -> String {
    // Serialising our own plain data types cannot fail.
    serde_json::to_string(value).unwrap_or_else(|_| "null".into())
}

pub(crate) fn from_text<T: DeserializeOwned>(column: &str, text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("{column}: {e}")))
}
