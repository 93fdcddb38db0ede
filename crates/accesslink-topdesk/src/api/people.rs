//! `/tas/api/persons`, `/tas/api/operators`, `/tas/api/operatorgroups` and
//! `/tas/api/permissiongroups` (fact sheet §3.7, the vendor's API description).
//!
//! Persons and operators share one handle, [`People`], over the [`AccountRecord`] they
//! hold: the two APIs differ only in their path, their login field and their archived
//! status. Operators also hold groups ([`GroupList`]).

use std::marker::PhantomData;

use accesslink_core::Result;
use accesslink_core::http::HttpClient;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use super::{ListPage, ListParams, get_opt, list_page, push_segment};
use crate::client::TopdeskClient;
use crate::models::{Named, Operator, OperatorGroup, Person};
use crate::refs::require_uuid;
use crate::settings::AccountKind;

/// A person or an operator record: what [`People`] reads and writes.
pub trait AccountRecord: DeserializeOwned + Send + Sync + 'static {
    /// The kind of account.
    const KIND: AccountKind;
    /// The collection under `/tas/api` (`persons`, `operators`).
    const COLLECTION: &'static str;
    /// The login field, in bodies and FIQL (`tasLoginName`, `loginName`).
    const LOGIN_FIELD: &'static str;
    /// The `status` of an archived record (`personArchived`, `operatorArchived`).
    const ARCHIVED_STATUS: &'static str;

    /// The UUID.
    fn id(&self) -> &str;
    /// The login name, if any.
    fn login(&self) -> Option<&str>;
    /// The fields every record has, and the rest.
    fn into_common(self) -> CommonFields;
}

/// The fields persons and operators share.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct CommonFields {
    /// The UUID.
    pub id: String,
    /// The login name.
    pub login: Option<String>,
    /// `person`/`operator`, or archived.
    pub status: Option<String>,
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub sur_name: Option<String>,
    /// Display name.
    pub dynamic_name: Option<String>,
    /// E-mail.
    pub email: Option<String>,
    /// Every other field.
    pub other: Map<String, Value>,
}

impl AccountRecord for Person {
    const KIND: AccountKind = AccountKind::Person;
    const COLLECTION: &'static str = "persons";
    const LOGIN_FIELD: &'static str = "tasLoginName";
    const ARCHIVED_STATUS: &'static str = "personArchived";

    fn id(&self) -> &str {
        &self.id
    }
    fn login(&self) -> Option<&str> {
        self.tas_login_name.as_deref()
    }
    fn into_common(self) -> CommonFields {
        CommonFields {
            id: self.id,
            login: self.tas_login_name,
            status: self.status,
            first_name: self.first_name,
            sur_name: self.sur_name,
            dynamic_name: self.dynamic_name,
            email: self.email,
            other: self.other,
        }
    }
}

impl AccountRecord for Operator {
    const KIND: AccountKind = AccountKind::Operator;
    const COLLECTION: &'static str = "operators";
    const LOGIN_FIELD: &'static str = "loginName";
    const ARCHIVED_STATUS: &'static str = "operatorArchived";

    fn id(&self) -> &str {
        &self.id
    }
    fn login(&self) -> Option<&str> {
        self.login_name.as_deref()
    }
    fn into_common(self) -> CommonFields {
        CommonFields {
            id: self.id,
            login: self.login_name,
            status: self.status,
            first_name: self.first_name,
            sur_name: self.sur_name,
            dynamic_name: self.dynamic_name,
            email: self.email,
            other: self.other,
        }
    }
}

/// `GET {base}/id/{id}`.
async fn get_by_id<T: DeserializeOwned>(
    http: &HttpClient,
    base: &str,
    id: &str,
    what: &str,
) -> Result<Option<T>> {
    let id = require_uuid(id, what)?;
    let req = push_segment(http.get(base)?, &id)?;
    get_opt(http, req).await
}

/// The archive body: `{"id": reason}`, or `{}` without a reason.
fn reason_body(reason: Option<&str>) -> Value {
    match reason {
        Some(r) => json!({ "id": r }),
        None => json!({}),
    }
}

/// Persons or operators: `client.persons()`, `client.operators()`.
#[derive(Debug)]
pub struct People<'c, T> {
    client: &'c TopdeskClient,
    record: PhantomData<fn() -> T>,
}

impl<T> Clone for People<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for People<'_, T> {}

/// Persons (end users): `client.persons()`.
pub type Persons<'c> = People<'c, Person>;
/// Operators (agents) and their groups: `client.operators()`.
pub type Operators<'c> = People<'c, Operator>;

impl<'c, T: AccountRecord> People<'c, T> {
    pub(crate) fn new(client: &'c TopdeskClient) -> Self {
        People {
            client,
            record: PhantomData,
        }
    }

    fn base(&self) -> String {
        format!("{}/id/", T::COLLECTION)
    }

    fn what(&self) -> &'static str {
        match T::KIND {
            AccountKind::Person => "person id",
            AccountKind::Operator => "operator id",
        }
    }

    /// One page of `GET /persons` or `/operators`.
    pub async fn list(&self, start: u64, size: u32, params: &ListParams) -> Result<ListPage<T>> {
        list_page(&self.client.http, T::COLLECTION, start, size, params).await
    }

    /// `GET …/id/{id}`; `None` on 404.
    pub async fn get_opt(&self, id: &str) -> Result<Option<T>> {
        get_by_id(&self.client.http, &self.base(), id, self.what()).await
    }

    /// `POST /persons` or `/operators` (not retried by the client: a lost answer may
    /// have created it).
    pub async fn create(&self, body: &Value) -> Result<T> {
        let http = &self.client.http;
        http.send_json(http.post(T::COLLECTION)?.json(body)?).await
    }

    /// `PATCH …/id/{id}` with fields to set (repeated after a lost answer: setting a
    /// field twice is harmless).
    pub async fn patch(&self, id: &str, body: &Value) -> Result<T> {
        self.patch_at(id, None, body).await
    }

    /// `PATCH …/id/{id}/archive` with an optional archiving reason.
    pub async fn archive(&self, id: &str, reason: Option<&str>) -> Result<T> {
        self.patch_at(id, Some("archive"), &reason_body(reason))
            .await
    }

    /// `PATCH …/id/{id}/unarchive`.
    pub async fn unarchive(&self, id: &str) -> Result<T> {
        self.patch_at(id, Some("unarchive"), &json!({})).await
    }

    async fn patch_at(&self, id: &str, tail: Option<&str>, body: &Value) -> Result<T> {
        let id = require_uuid(id, self.what())?;
        let http = &self.client.http;
        let mut req = push_segment(http.patch(&self.base())?, &id)?;
        if let Some(tail) = tail {
            req = push_segment(req, tail)?;
        }
        http.send_json(req.json(body)?.retry_safe(true)).await
    }
}

/// The groups an operator holds through a list-of-ids link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum GroupList {
    /// `operators/id/{id}/operatorgroups`.
    OperatorGroups,
    /// `operators/id/{id}/permissiongroups`.
    PermissionGroups,
}

impl GroupList {
    fn segment(self) -> &'static str {
        match self {
            GroupList::OperatorGroups => "operatorgroups",
            GroupList::PermissionGroups => "permissiongroups",
        }
    }
}

impl People<'_, Operator> {
    /// `GET /operators/id/{id}/operatorgroups` or `…/permissiongroups`: the operator's
    /// groups as search-list references `{id, name}` (204: none).
    pub async fn linked(&self, id: &str, list: GroupList) -> Result<Vec<Named>> {
        let id = require_uuid(id, "operator id")?;
        let http = &self.client.http;
        let req = push_segment(
            push_segment(http.get("operators/id/")?, &id)?,
            list.segment(),
        )?;
        let response = http.send(req).await?;
        if response.status() == http::StatusCode::NO_CONTENT {
            return Ok(Vec::new());
        }
        response.json()
    }

    /// `GET /operators/id/{id}/operatorgroups`: the operator's operator groups.
    pub async fn groups(&self, id: &str) -> Result<Vec<Named>> {
        self.linked(id, GroupList::OperatorGroups).await
    }

    /// `POST …/operatorgroups` or `…/permissiongroups` with `[{"id": group}]`: links
    /// the group (TOPdesk keeps one link when it is added again).
    pub async fn link(&self, id: &str, list: GroupList, group: &str) -> Result<()> {
        self.send_link(http::Method::POST, id, list, group).await
    }

    /// `DELETE …/operatorgroups` or `…/permissiongroups` with `[{"id": group}]`.
    pub async fn unlink(&self, id: &str, list: GroupList, group: &str) -> Result<()> {
        self.send_link(http::Method::DELETE, id, list, group).await
    }

    async fn send_link(
        &self,
        method: http::Method,
        id: &str,
        list: GroupList,
        group: &str,
    ) -> Result<()> {
        let id = require_uuid(id, "operator id")?;
        let group = require_uuid(group, "group id")?;
        let http = &self.client.http;
        let req = push_segment(
            push_segment(http.request(method, "operators/id/")?, &id)?,
            list.segment(),
        )?
        .json(&json!([{ "id": group }]))?;
        http.send(req).await?;
        Ok(())
    }
}

/// Operator groups: `client.operator_groups()`.
#[derive(Debug, Clone, Copy)]
pub struct OperatorGroups<'c> {
    client: &'c TopdeskClient,
}

impl<'c> OperatorGroups<'c> {
    pub(crate) fn new(client: &'c TopdeskClient) -> Self {
        OperatorGroups { client }
    }

    /// One page of `GET /operatorgroups`.
    pub async fn list(
        &self,
        start: u64,
        size: u32,
        params: &ListParams,
    ) -> Result<ListPage<OperatorGroup>> {
        list_page(&self.client.http, "operatorgroups", start, size, params).await
    }

    /// `GET /operatorgroups/id/{id}`; `None` on 404.
    pub async fn get_opt(&self, id: &str) -> Result<Option<OperatorGroup>> {
        get_by_id(
            &self.client.http,
            "operatorgroups/id/",
            id,
            "operator group id",
        )
        .await
    }
}

/// Permission groups: `client.permission_groups(path)`.
#[derive(Debug, Clone, Copy)]
pub struct PermissionGroups<'c> {
    client: &'c TopdeskClient,
    path: &'c str,
}

impl<'c> PermissionGroups<'c> {
    pub(crate) fn new(client: &'c TopdeskClient, path: &'c str) -> Self {
        PermissionGroups { client, path }
    }

    /// One page of `GET /permissiongroups` (UNVERIFIED path, fact sheet §3.7; the
    /// rows are search-list references `{id, name}`), in TOPdesk's paging contract.
    pub async fn list(
        &self,
        start: u64,
        size: u32,
        params: &ListParams,
    ) -> Result<ListPage<Named>> {
        list_page(&self.client.http, self.path, start, size, params).await
    }
}
