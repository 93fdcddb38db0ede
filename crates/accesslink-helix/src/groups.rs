//! AR System `Group` membership (entitlement type `ar_group`) through the `User` form's
//! `Group List`: a `;`-separated string of group ids (`"1000000001;1000000014;"`). There
//! is no join form (fact sheet §4) and no conditional update over REST, so a change is
//! a read-modify-write with checks:
//!
//! 1. read the user's `Group List`;
//! 2. read it again just before writing: when it changed in between, another writer was
//!    at work; start over from the fresh list (never write a list built on a stale read,
//!    which would drop the other writer's group);
//! 3. write the whole list (the read list plus or minus one id, nothing else);
//! 4. read it back: when our change is not there (another writer's stale list landed
//!    after ours), start over.
//!
//! After `max_rounds` rounds that each met a concurrent change: `Conflict`. What AR
//! cannot offer is closing the window between step 2 and step 3 (one round trip): a
//! writer landing exactly there is overwritten. That writer's own check (step 4) sees
//! its change missing and writes again, if it checks; a writer that does not check
//! (an operator in the AR client) can lose its change in that window.

use accesslink_core::{
    AccountId, Entitlement, EntitlementRef, EntitlementType, Error, Grant, GrantOutcome, Page,
    PageRequest, Result, RevokeOutcome,
};
use serde_json::{Map, json};

use crate::connector::HelixConnector;
use crate::models::Entry;
use crate::qual::{Qual, Value as QValue};
use crate::settings::ArGroupSettings;

/// The entitlement type of AR groups.
pub const AR_GROUP: &str = "ar_group";

/// The group ids of a `Group List` value, in order, without duplicates or blanks.
pub fn parse_group_list(raw: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for id in raw.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        if !out.iter().any(|x| x == id) {
            out.push(id.to_owned());
        }
    }
    out
}

/// A `Group List` value: ids joined with `;`, with AR's trailing `;`; empty for none.
pub fn format_group_list(ids: &[String]) -> String {
    ids.iter().map(|id| format!("{id};")).collect()
}

/// Whether a group id is one AR could hold: digits only (refused before any request
/// otherwise; it travels in a qualification and in a `;`-separated list).
fn check_group_id(id: &str) -> Result<()> {
    if id.is_empty() || id.len() > 15 || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::invalid_input(format!(
            "{:?} is not an AR group id (digits)",
            accesslink_core::redact::truncate(id, 40)
        )));
    }
    Ok(())
}

/// One read of a user's membership.
struct Membership {
    entry_id: String,
    groups: Vec<String>,
}

enum Edit {
    Add,
    Remove,
}

impl HelixConnector {
    fn ar_groups(&self) -> Result<&ArGroupSettings> {
        self.settings.ar_groups.as_ref().ok_or_else(|| {
            Error::invalid_input(format!(
                "{AR_GROUP} entitlements are not configured for this Helix instance (set ar_groups)"
            ))
        })
    }

    /// An AR group entitlement.
    pub fn ar_group_entitlement(id: impl Into<String>) -> EntitlementRef {
        EntitlementRef::new(EntitlementType::new(AR_GROUP), id.into())
    }

    async fn membership(&self, g: &ArGroupSettings, login: &AccountId) -> Result<Membership> {
        let q = Qual::eq(&g.login_field, &QValue::text(login.as_str())?)?;
        let page = self
            .client
            .list(
                &g.user_form,
                Some(&q),
                &[g.login_field.as_str(), g.group_list_field.as_str()],
                0,
                5,
            )
            .await?;
        let entry = page
            .entries
            .into_iter()
            .find(|e| e.text(&g.login_field).as_deref() == Some(login.as_str()))
            .ok_or_else(|| Error::not_found(format!("Helix user {login}")))?;
        let entry_id = entry
            .entry_id(&self.settings.fields.entry_id)
            .ok_or_else(|| {
                Error::protocol(
                    format!("GET /entry/{}", g.user_form),
                    "a user without an id",
                )
            })?;
        Ok(Membership {
            entry_id,
            groups: parse_group_list(&entry.text(&g.group_list_field).unwrap_or_default()),
        })
    }

    /// The read-modify-write of the module docs; `Ok(false)` when nothing needed doing.
    async fn edit_groups(&self, login: &AccountId, group: &str, edit: Edit) -> Result<bool> {
        let g = self.ar_groups()?;
        check_group_id(group)?;
        QValue::text(login.as_str())?;
        let wanted = |groups: &[String]| {
            let has = groups.iter().any(|x| x == group);
            match edit {
                Edit::Add => has,
                Edit::Remove => !has,
            }
        };
        let mut wrote = false;
        for round in 1..=g.max_rounds {
            let read = self.membership(g, login).await?;
            if wanted(&read.groups) {
                return Ok(wrote);
            }
            let mut next = read.groups.clone();
            match edit {
                Edit::Add => next.push(group.to_owned()),
                Edit::Remove => next.retain(|x| x != group),
            }
            let check = self.membership(g, login).await?;
            if check.groups != read.groups || check.entry_id != read.entry_id {
                tracing::info!(
                    round,
                    login = %login,
                    "the Group List changed between two reads; starting over"
                );
                continue;
            }
            let mut v = Map::new();
            v.insert(g.group_list_field.clone(), json!(format_group_list(&next)));
            self.client.update(&g.user_form, &read.entry_id, v).await?;
            wrote = true;
            let after = self.membership(g, login).await?;
            if wanted(&after.groups) {
                return Ok(true);
            }
            tracing::info!(
                round,
                login = %login,
                "the Group List lost this change to a concurrent write; starting over"
            );
        }
        Err(Error::Conflict {
            message: format!(
                "the Group List of Helix user {login} kept changing concurrently for {} rounds",
                g.max_rounds
            ),
        })
    }

    pub(crate) async fn grant_ar_group(
        &self,
        id: &AccountId,
        e: &EntitlementRef,
    ) -> Result<GrantOutcome> {
        Ok(if self.edit_groups(id, e.id.as_str(), Edit::Add).await? {
            GrantOutcome::Granted
        } else {
            GrantOutcome::AlreadyGranted
        })
    }

    pub(crate) async fn revoke_ar_group(
        &self,
        id: &AccountId,
        e: &EntitlementRef,
    ) -> Result<RevokeOutcome> {
        Ok(
            if self.edit_groups(id, e.id.as_str(), Edit::Remove).await? {
                RevokeOutcome::Revoked
            } else {
                RevokeOutcome::AlreadyAbsent
            },
        )
    }

    pub(crate) async fn list_ar_groups(&self, page: PageRequest) -> Result<Page<Entitlement>> {
        let g = self.ar_groups()?;
        let (entries, next) = self.page_of(&g.group_form, None, &page).await?;
        let items = entries
            .iter()
            .map(|e| {
                let id = e.text(&g.group_id_field).ok_or_else(|| {
                    Error::protocol(
                        format!("GET /entry/{}", g.group_form),
                        "a group without an id",
                    )
                })?;
                let name = e.text(&g.group_name_field).unwrap_or_else(|| id.clone());
                let mut ent = Entitlement::new(Self::ar_group_entitlement(id), name);
                ent.attributes = e.values.clone();
                Ok(ent)
            })
            .collect::<Result<_>>()?;
        Ok(Page::new(items, next))
    }

    /// One grant per group id in each user's `Group List`.
    pub(crate) async fn list_ar_group_grants(&self, page: PageRequest) -> Result<Page<Grant>> {
        let g = self.ar_groups()?;
        let (entries, next): (Vec<Entry>, _) = self.page_of(&g.user_form, None, &page).await?;
        let mut items = Vec::new();
        for e in &entries {
            let Some(login) = e.text(&g.login_field).filter(|l| !l.is_empty()) else {
                continue;
            };
            for group in parse_group_list(&e.text(&g.group_list_field).unwrap_or_default()) {
                items.push(Grant::new(
                    AccountId::new(login.clone()),
                    Self::ar_group_entitlement(group),
                ));
            }
        }
        Ok(Page::new(items, next))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_lists_round_trip() {
        assert_eq!(
            parse_group_list("1000000001;1000000014;"),
            vec!["1000000001", "1000000014"]
        );
        assert_eq!(parse_group_list(" 1; ;2;1"), vec!["1", "2"]);
        assert!(parse_group_list("").is_empty());
        assert_eq!(
            format_group_list(&["1".into(), "20".into()]),
            "1;20;".to_owned()
        );
        assert_eq!(format_group_list(&[]), "");
    }

    #[test]
    fn group_ids_are_digits() {
        assert!(check_group_id("1000000001").is_ok());
        for bad in ["", "12a", "1;2", "1\" OR", "1234567890123456"] {
            assert!(check_group_id(bad).is_err(), "{bad:?}");
        }
    }
}
