//! Cursor pages of the lists that grow: `first` (how many, up to the list's maximum) and
//! `after` (the previous page's `pageInfo.endCursor`); every page answers `items` and
//! `pageInfo`. Cursors are opaque and belong to one list.

use async_graphql::SimpleObject;
use entity::ops::Paged;
use entity::rules::paging;

use crate::error::ApiError;

/// Where a page ends and whether another follows.
#[derive(SimpleObject, Clone, Debug, PartialEq, Eq)]
pub struct PageInfo {
    /// Whether more items follow this page.
    pub has_next_page: bool,
    /// The cursor of the page's last item: pass it as `after` for the next page (null on an
    /// empty page).
    pub end_cursor: Option<String>,
}

/// The checked `first` and the id `after` names, for the list `list`.
pub fn args(list: &str, first: i64, after: Option<&str>, max: u64) -> Result<(Option<i64>, u64), ApiError> {
    Ok((paging::after(list, after)?, paging::check_first(first, max)?))
}

/// The page's info, its cursor made from the last item's `id`.
pub fn info<T>(list: &str, page: &Paged<T>, id: impl Fn(&T) -> i64) -> PageInfo {
    PageInfo { has_next_page: page.has_next, end_cursor: page.items.last().map(|last| paging::cursor(list, id(last))) }
}

/// A loaded page as its GraphQL items and info (a missing page is an empty one).
pub fn items<M, T: From<M>>(list: &str, page: Option<Paged<M>>, id: impl Fn(&M) -> i64) -> (Vec<T>, PageInfo) {
    let page = page.unwrap_or(Paged { items: Vec::new(), has_next: false });
    let info = info(list, &page, id);
    (page.items.into_iter().map(T::from).collect(), info)
}
