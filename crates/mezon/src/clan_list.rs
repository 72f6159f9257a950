//! Listing every clan the bot is in. `ListClanDescs` answers carry no cursor, so the client
//! pages with `limit` and `cursor = the last clan id seen` until a short page. A server that
//! ignores the cursor (and repeats a page) or never ends is cut off: the number of pages is
//! bounded and a page that brings no new clan stops the listing.

use std::collections::HashSet;
use std::future::Future;

use mezon_proto::api::{ClanDesc, ListClanDescRequest};

/// Clans asked for per page.
pub(crate) const PAGE_SIZE: i32 = 100;
/// At most this many pages are read (100 000 clans at the default page size).
pub(crate) const MAX_PAGES: usize = 1000;

/// Reads pages with `fetch` and returns every clan once, in the order the server listed them.
pub(crate) async fn list_all<E, F, Fut>(
    page_size: i32,
    max_pages: usize,
    mut fetch: F,
) -> Result<Vec<ClanDesc>, E>
where
    F: FnMut(ListClanDescRequest) -> Fut,
    Fut: Future<Output = Result<Vec<ClanDesc>, E>>,
{
    let page_size = page_size.max(1);
    let full_page = usize::try_from(page_size).unwrap_or(usize::MAX);
    let mut seen = HashSet::new();
    let mut clans = Vec::new();
    let mut cursor = String::new();
    for page_number in 1..=max_pages {
        let page = fetch(ListClanDescRequest {
            limit: page_size,
            cursor: cursor.clone(),
            ..ListClanDescRequest::default()
        })
        .await?;
        let page_len = page.len();
        let mut new_clans = 0usize;
        for clan in page {
            if seen.insert(clan.clan_id) {
                new_clans += 1;
                cursor = clan.clan_id.to_string();
                clans.push(clan);
            }
        }
        if page_len < full_page {
            return Ok(clans);
        }
        if new_clans == 0 {
            tracing::warn!(
                page_number,
                "the clan list repeated a page (cursor ignored?); stopping"
            );
            return Ok(clans);
        }
    }
    tracing::warn!(
        max_pages,
        clans = clans.len(),
        "the clan list did not end; stopping"
    );
    Ok(clans)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::convert::Infallible;

    fn clans(ids: impl IntoIterator<Item = i64>) -> Vec<ClanDesc> {
        ids.into_iter()
            .map(|clan_id| ClanDesc {
                clan_id,
                ..ClanDesc::default()
            })
            .collect()
    }

    fn ids(list: &[ClanDesc]) -> Vec<i64> {
        list.iter().map(|c| c.clan_id).collect()
    }

    /// A server that pages correctly over clans `1..=total`.
    fn honest(
        total: i64,
    ) -> impl FnMut(ListClanDescRequest) -> std::future::Ready<Result<Vec<ClanDesc>, Infallible>>
    {
        move |req| {
            let after: i64 = req.cursor.parse().unwrap_or(0);
            let end = (after + i64::from(req.limit)).min(total);
            std::future::ready(Ok(clans(after + 1..=end)))
        }
    }

    #[tokio::test]
    async fn pages_until_a_short_page_passing_the_last_id_as_cursor() {
        let mut cursors = Vec::new();
        let mut server = honest(7);
        let all = list_all(3, 10, |req: ListClanDescRequest| {
            assert_eq!(req.limit, 3);
            cursors.push(req.cursor.clone());
            server(req)
        })
        .await
        .unwrap();
        assert_eq!(ids(&all), (1..=7).collect::<Vec<_>>());
        assert_eq!(cursors, ["", "3", "6"]);
    }

    #[tokio::test]
    async fn an_exact_multiple_of_the_page_size_ends_on_an_empty_page() {
        let mut calls = 0;
        let mut server = honest(6);
        let all = list_all(3, 10, |req| {
            calls += 1;
            server(req)
        })
        .await
        .unwrap();
        assert_eq!(ids(&all), (1..=6).collect::<Vec<_>>());
        assert_eq!(calls, 3);
    }

    #[tokio::test]
    async fn a_server_ignoring_the_cursor_is_read_twice_not_forever() {
        let mut calls = 0;
        let all = list_all(2, 10, |_req| {
            calls += 1;
            std::future::ready(Ok::<_, Infallible>(clans([5, 6])))
        })
        .await
        .unwrap();
        assert_eq!(ids(&all), [5, 6]);
        assert_eq!(calls, 2);
    }

    #[tokio::test]
    async fn an_endless_list_stops_after_max_pages() {
        let mut calls = 0i64;
        let all = list_all(1, 4, |_req| {
            calls += 1;
            std::future::ready(Ok::<_, Infallible>(clans([calls])))
        })
        .await
        .unwrap();
        assert_eq!(ids(&all), [1, 2, 3, 4]);
        assert_eq!(calls, 4);
    }

    #[tokio::test]
    async fn a_failed_page_fails_the_listing() {
        let result = list_all(2, 10, |req: ListClanDescRequest| {
            std::future::ready(if req.cursor.is_empty() {
                Ok(clans([1, 2]))
            } else {
                Err("down")
            })
        })
        .await;
        assert_eq!(result.map(|c| c.len()), Err("down"));
    }
}
