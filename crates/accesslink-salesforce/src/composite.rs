//! Bulk grants and revokes through the sObject Collections API (`composite/sobjects`):
//! up to 200 assignments per request instead of one request each.
//!
//! The vendor answers HTTP 200 with one result per record, **each with its own
//! `success`** (fact sheet §3 "Composite"): with `allOrNone = false` some items can fail
//! while others are saved. Every item's result is read and mapped to a
//! [`GrantOutcome`] / [`RevokeOutcome`] or an error of its own; an answer whose length
//! differs from the request's is a protocol error for the whole chunk.
//!
//! A collection create is not idempotent: after an ambiguous failure (a dropped
//! answer, a 5xx, a timeout) the chunk's assignments are **looked up**; those found are
//! granted, and only the missing ones are sent again. A write is never repeated
//! blindly, so a retry cannot create a duplicate assignment (and where the server has
//! one already, `DUPLICATE_VALUE` is "already granted" anyway).

use std::collections::HashSet;

use accesslink_core::{ApiError, Error, ErrorKind, Grant, GrantOutcome, Result, RevokeOutcome};
use http::{Method, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::client::SalesforceClient;
use crate::connector::SalesforceConnector;
use crate::error::kind_of;
use crate::ids::SfId;
use crate::soql::Soql;

/// Records per sObject Collections request (the vendor's limit).
pub const COLLECTION_LIMIT: usize = 200;

/// One item's error in a collection answer: `{statusCode, message, fields}`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ItemError {
    /// The vendor code (`DUPLICATE_VALUE`, `INVALID_CROSS_REFERENCE_KEY`, …).
    #[serde(default, alias = "errorCode")]
    pub status_code: Option<String>,
    /// The message.
    #[serde(default)]
    pub message: Option<String>,
    /// The fields concerned.
    #[serde(default)]
    pub fields: Vec<String>,
}

/// One item of a collection answer: `{id, success, errors}`.
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct ItemResult {
    /// The record id (the new one on create).
    #[serde(default)]
    pub id: Option<String>,
    /// Whether this item was saved (or deleted).
    pub success: bool,
    /// Why not.
    #[serde(default)]
    pub errors: Vec<ItemError>,
}

impl ItemResult {
    /// The first error's code.
    pub fn code(&self) -> Option<&str> {
        self.errors.first().and_then(|e| e.status_code.as_deref())
    }

    /// The item's failure as a core error.
    fn error(&self, request: &str, index: usize) -> Error {
        let code = self.code().unwrap_or("UNKNOWN_ERROR").to_owned();
        let kind = kind_of(&code).unwrap_or(ErrorKind::Other);
        let message: Vec<String> = self
            .errors
            .iter()
            .map(|e| e.message.clone().unwrap_or_default())
            .collect();
        Error::Api(Box::new(
            ApiError::new(kind, StatusCode::OK, format!("{request} (item {index})"))
                .with_code(code)
                .with_message(accesslink_core::redact::truncate(&message.join("; "), 300)),
        ))
    }
}

impl SalesforceClient {
    /// `POST composite/sobjects` with `allOrNone = false`: one result per record, in
    /// order. Each record carries `attributes.type`. Not repeated after an ambiguous
    /// failure (the caller looks up what was saved).
    pub async fn create_collection(&self, records: &[Value]) -> Result<Vec<ItemResult>> {
        if records.is_empty() || records.len() > COLLECTION_LIMIT {
            return Err(Error::invalid_input(format!(
                "a collection holds 1-{COLLECTION_LIMIT} records"
            )));
        }
        let http = self.http().await?;
        let req = http
            .post("composite/sobjects")?
            .json(&json!({ "allOrNone": false, "records": records }))?
            .retry_safe(false);
        let items: Vec<ItemResult> = http.send_json(req).await?;
        check_len("POST composite/sobjects", records.len(), items.len())?;
        Ok(items)
    }

    /// `DELETE composite/sobjects?ids=…&allOrNone=false`: one result per id, in order.
    /// Deleting is safe to repeat (a second delete answers `ENTITY_IS_DELETED`).
    pub async fn delete_collection(&self, ids: &[SfId]) -> Result<Vec<ItemResult>> {
        if ids.is_empty() || ids.len() > COLLECTION_LIMIT {
            return Err(Error::invalid_input(format!(
                "a collection holds 1-{COLLECTION_LIMIT} ids"
            )));
        }
        let http = self.http().await?;
        let list: Vec<&str> = ids.iter().map(SfId::as_str).collect();
        let req = http
            .request(Method::DELETE, "composite/sobjects")?
            .query_pair("ids", &list.join(","))
            .query_pair("allOrNone", "false")
            .retry_safe(true);
        let items: Vec<ItemResult> = http.send_json(req).await?;
        check_len("DELETE composite/sobjects", ids.len(), items.len())?;
        Ok(items)
    }
}

/// Whether a failed collection write may have been applied: a transient failure (not
/// the quota), or an answer that could not be read.
fn ambiguous(e: &Error) -> bool {
    (e.is_retryable() && e.kind() != ErrorKind::RateLimited) || e.kind() == ErrorKind::Protocol
}

fn check_len(request: &str, sent: usize, got: usize) -> Result<()> {
    if sent == got {
        Ok(())
    } else {
        Err(Error::protocol(
            request,
            format!("{sent} records sent, {got} results received"),
        ))
    }
}

/// A grant parsed for a collection: its index in the caller's list, the assignment
/// object and fields, and the two ids.
#[derive(Clone)]
struct Item {
    index: usize,
    object: &'static str,
    efield: &'static str,
    afield: &'static str,
    account: SfId,
    entitlement: SfId,
}

impl Item {
    fn record(&self) -> Value {
        json!({
            "attributes": { "type": self.object },
            self.afield: self.account.as_str(),
            self.efield: self.entitlement.as_str(),
        })
    }

    fn key(&self) -> (&'static str, &'static str, String, String) {
        (
            self.object,
            self.efield,
            self.account.short().to_owned(),
            self.entitlement.short().to_owned(),
        )
    }
}

impl SalesforceConnector {
    /// Splits a job: assignment grants parsed into items (malformed ones get their
    /// error in `out`), and the indexes of grants that go one by one (the profile).
    fn split<T>(&self, grants: &[Grant], out: &mut [Option<Result<T>>]) -> (Vec<Item>, Vec<usize>) {
        let mut items = Vec::new();
        let mut singles = Vec::new();
        for (index, g) in grants.iter().enumerate() {
            if !self.is_collection_kind(&g.entitlement.ty) {
                singles.push(index);
                continue;
            }
            let parsed = self.assignment_kind(&g.entitlement.ty).and_then(|k| {
                Ok(Item {
                    index,
                    object: k.object,
                    efield: k.efield,
                    afield: k.afield,
                    account: SfId::parse(g.account.as_str())?,
                    entitlement: SfId::parse(g.entitlement.id.as_str())?,
                })
            });
            match parsed {
                Ok(i) => items.push(i),
                Err(e) => out[index] = Some(Err(e)),
            }
        }
        (items, singles)
    }

    /// The assignments of a chunk that exist now: one SOQL per object with `IN` lists,
    /// each row matched back to an item by both ids. Returns `key → assignment id`.
    async fn existing(
        &self,
        chunk: &[Item],
    ) -> Result<std::collections::HashMap<(&'static str, &'static str, String, String), SfId>> {
        let mut found = std::collections::HashMap::new();
        let mut kinds: Vec<(&'static str, &'static str, &'static str)> = chunk
            .iter()
            .map(|i| (i.object, i.efield, i.afield))
            .collect();
        kinds.sort_unstable();
        kinds.dedup();
        for (object, efield, afield) in kinds {
            let of: Vec<&Item> = chunk
                .iter()
                .filter(|i| i.object == object && i.efield == efield)
                .collect();
            let accounts: HashSet<&str> = of.iter().map(|i| i.account.as_str()).collect();
            let ents: HashSet<&str> = of.iter().map(|i| i.entitlement.as_str()).collect();
            let accounts: Vec<&str> = accounts.into_iter().collect();
            let ents: Vec<&str> = ents.into_iter().collect();
            let q = Soql::select(&["Id", efield, afield], object)?
                .in_list(afield, &accounts)?
                .in_list(efield, &ents)?;
            let rows: Vec<serde_json::Map<String, Value>> = self.client.query_all(&q).await?;
            for r in rows {
                let get = |k: &str| {
                    r.get(k)
                        .and_then(Value::as_str)
                        .and_then(|v| SfId::parse(v).ok())
                };
                if let (Some(id), Some(a), Some(e)) = (get("Id"), get(afield), get(efield)) {
                    found.insert(
                        (object, efield, a.short().to_owned(), e.short().to_owned()),
                        id,
                    );
                }
            }
        }
        Ok(found)
    }

    /// Grants many entitlements with sObject Collections: one request per 200
    /// assignments (`PermissionSetAssignment`, `GroupMember`), `allOrNone = false`.
    /// The answer has one result per grant, in order: `Granted`, `AlreadyGranted`
    /// (`DUPLICATE_VALUE`), or that item's error. After an ambiguous failure of a
    /// request the chunk's assignments are looked up and only the missing ones sent
    /// again (never a blind repeat), up to the retry settings' attempts. Profile grants
    /// (an update of `User.ProfileId`) go one by one. The outer error is for what stops
    /// the whole job (a token refused, the daily quota, a request refused as a whole,
    /// a server still failing after the look-ups); running the job again is safe.
    pub async fn grant_all(&self, grants: &[Grant]) -> Result<Vec<Result<GrantOutcome>>> {
        let mut out: Vec<Option<Result<GrantOutcome>>> = (0..grants.len()).map(|_| None).collect();
        let (items, singles) = self.split(grants, &mut out);
        for chunk in items.chunks(COLLECTION_LIMIT) {
            self.grant_chunk(chunk, &mut out).await?;
        }
        for i in singles {
            let g = &grants[i];
            out[i] =
                Some(accesslink_core::Provisioner::grant(self, &g.account, &g.entitlement).await);
        }
        Ok(out
            .into_iter()
            .map(|o| o.unwrap_or_else(|| Err(Error::other("grant not attempted"))))
            .collect())
    }

    async fn grant_chunk(
        &self,
        chunk: &[Item],
        out: &mut [Option<Result<GrantOutcome>>],
    ) -> Result<()> {
        let attempts = self.client.retry_config().max_attempts.max(1);
        let mut pending: Vec<Item> = chunk.to_vec();
        let mut last_err = None;
        for _ in 0..attempts {
            if pending.is_empty() {
                return Ok(());
            }
            let records: Vec<Value> = pending.iter().map(Item::record).collect();
            match self.client.create_collection(&records).await {
                Ok(results) => {
                    for (item, r) in pending.iter().zip(&results) {
                        out[item.index] = Some(if r.success {
                            Ok(GrantOutcome::Granted)
                        } else if r.code() == Some("DUPLICATE_VALUE") {
                            Ok(GrantOutcome::AlreadyGranted)
                        } else {
                            Err(r.error("POST composite/sobjects", item.index))
                        });
                    }
                    return Ok(());
                }
                Err(e) if ambiguous(&e) => {
                    // The server may have saved some. Look up, send only the rest.
                    tracing::debug!(error = %e, "salesforce collection create failed; looking up");
                    let found = self.existing(&pending).await?;
                    pending.retain(|item| {
                        if found.contains_key(&item.key()) {
                            out[item.index] = Some(Ok(GrantOutcome::Granted));
                            false
                        } else {
                            true
                        }
                    });
                    last_err = Some(e);
                }
                // A refusal of the whole request (a token, the quota, a malformed
                // request) stops the job; repeating it is safe (duplicates are
                // "already granted").
                Err(e) => return Err(e),
            }
        }
        match last_err {
            Some(e) if !pending.is_empty() => Err(e),
            _ => Ok(()),
        }
    }

    /// Revokes many entitlements: one look-up per 200 (SOQL `IN`), then one
    /// `DELETE composite/sobjects` for the assignments found. One result per grant, in
    /// order: `Revoked`, `AlreadyAbsent` (none found, or `ENTITY_IS_DELETED` /
    /// `NOT_FOUND`), or that item's error (Salesforce refuses to delete assignments of
    /// profile-owned permission sets). The profile cannot be revoked (`Unsupported`).
    pub async fn revoke_all(&self, grants: &[Grant]) -> Result<Vec<Result<RevokeOutcome>>> {
        let mut out: Vec<Option<Result<RevokeOutcome>>> = (0..grants.len()).map(|_| None).collect();
        let (items, singles) = self.split(grants, &mut out);
        for chunk in items.chunks(COLLECTION_LIMIT) {
            let found = self.existing(chunk).await?;
            let mut targets = Vec::new();
            for item in chunk {
                match found.get(&item.key()) {
                    Some(id) => targets.push((item.index, id.clone())),
                    None => out[item.index] = Some(Ok(RevokeOutcome::AlreadyAbsent)),
                }
            }
            if targets.is_empty() {
                continue;
            }
            let ids: Vec<SfId> = targets.iter().map(|(_, id)| id.clone()).collect();
            let results = self.client.delete_collection(&ids).await?;
            for ((index, _), r) in targets.iter().zip(&results) {
                out[*index] = Some(if r.success {
                    Ok(RevokeOutcome::Revoked)
                } else if matches!(r.code(), Some("ENTITY_IS_DELETED" | "NOT_FOUND")) {
                    Ok(RevokeOutcome::AlreadyAbsent)
                } else {
                    Err(r.error("DELETE composite/sobjects", *index))
                });
            }
        }
        for i in singles {
            let g = &grants[i];
            out[i] =
                Some(accesslink_core::Provisioner::revoke(self, &g.account, &g.entitlement).await);
        }
        Ok(out
            .into_iter()
            .map(|o| o.unwrap_or_else(|| Err(Error::other("revoke not attempted"))))
            .collect())
    }
}
