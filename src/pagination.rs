//! Cursor pagination shared by every list endpoint: `?limit=&cursor=` → `{data, next_cursor}`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, ApiResult};

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 500;

/// The query parameters every list takes.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page size, 1 to 500 (default 50).
    pub limit: Option<i64>,
    /// Opaque cursor from a previous page's `next_cursor`.
    pub cursor: Option<String>,
}

/// A validated page request: rows with ids below `before`, newest first.
#[derive(Clone, Copy, Debug)]
pub struct Page {
    pub limit: i64,
    pub before: Option<i64>,
}

impl PageQuery {
    pub fn page(&self) -> ApiResult<Page> {
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(ApiError::field("limit", "out_of_range"));
        }
        let before = match &self.cursor {
            None => None,
            Some(c) => Some(decode_cursor(c).ok_or_else(|| ApiError::field("cursor", "invalid_cursor"))?),
        };
        Ok(Page { limit, before })
    }
}

fn decode_cursor(c: &str) -> Option<i64> {
    let raw = URL_SAFE_NO_PAD.decode(c).ok()?;
    std::str::from_utf8(&raw).ok()?.strip_prefix("id:")?.parse().ok()
}

fn encode_cursor(id: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("id:{id}"))
}

/// One page of results.
#[derive(Debug, Serialize, ToSchema)]
pub struct Paginated<T: ToSchema> {
    pub data: Vec<T>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
}

impl<T: ToSchema> Paginated<T> {
    /// Builds a page from rows fetched with `limit + 1`, newest first; `id` gives each row's id.
    pub fn from_rows<R>(mut rows: Vec<R>, page: Page, id: impl Fn(&R) -> i64, map: impl FnMut(R) -> T) -> Self {
        let next_cursor = if rows.len() as i64 > page.limit {
            rows.truncate(page.limit as usize);
            rows.last().map(|r| encode_cursor(id(r)))
        } else {
            None
        };
        Paginated { data: rows.into_iter().map(map).collect(), next_cursor }
    }
}
