//! Collections of named things under `/api/v3/`: support groups, technician roles,
//! statuses, priorities, categories (`{"id":"..","name":".."}` rows).

use accesslink_core::{Error, Result};
use serde_json::Value;

use crate::client::SdpClient;
use crate::input::{self, Criteria};
use crate::models::{ListInfo, Named};

use super::{check_page, list_rows};

/// One collection of named rows; see [`SdpClient::lookups`].
#[derive(Debug, Clone)]
pub struct Lookups<'c> {
    client: &'c SdpClient,
    path: String,
}

impl<'c> Lookups<'c> {
    pub(crate) fn new(client: &'c SdpClient, path: &str) -> Self {
        Lookups {
            client,
            path: path.to_owned(),
        }
    }

    /// One page: the rows (typed and raw) and the answer's `list_info`.
    pub async fn list_page(
        &self,
        start_index: u64,
        row_count: u32,
    ) -> Result<(Vec<(Named, Value)>, ListInfo)> {
        let info = input::list_info(&Criteria::new(), start_index, row_count);
        let (rows, info) = list_rows(self.client, &self.path, &self.path, &info).await?;
        let rows = rows
            .into_iter()
            .map(|v| serde_json::from_value::<Named>(v.clone()).map(|n| (n, v)))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| Error::protocol(format!("sdp {}", self.path), format!("rows: {e}")))?;
        Ok((rows, info))
    }

    /// Every row, at most `max_pages` pages of 100; a page that starts elsewhere than
    /// asked or repeats an id is a protocol error.
    pub async fn list_all(&self, max_pages: usize) -> Result<Vec<Named>> {
        let mut out: Vec<Named> = Vec::new();
        let mut start = 1u64;
        for _ in 0..max_pages {
            let (rows, info) = self.list_page(start, 100).await?;
            check_page(&self.path, start, &info, rows.len())?;
            let n = rows.len() as u64;
            for (row, _) in rows {
                if row.id.is_some() && out.iter().any(|o| o.id == row.id) {
                    return Err(Error::protocol(
                        format!("sdp {}", self.path),
                        "a row came twice: the server repeats pages",
                    ));
                }
                out.push(row);
            }
            if info.has_more_rows != Some(true) {
                return Ok(out);
            }
            start += n;
        }
        Err(Error::protocol(
            format!("sdp {}", self.path),
            format!("more than {max_pages} pages"),
        ))
    }
}
