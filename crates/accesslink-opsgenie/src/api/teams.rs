//! `/v2/teams` and team members.

use accesslink_core::{Error, Result};

use super::{Identifier, optional};
use crate::client::OpsGenieClient;
use crate::models::{Envelope, IdName, NewTeam, SuccessResponse, Team, TeamMember};
use crate::refs::{check_team, check_user, segment};

/// The teams handle; see [`OpsGenieClient::teams`].
#[derive(Debug, Clone, Copy)]
pub struct Teams<'c> {
    client: &'c OpsGenieClient,
}

impl<'c> Teams<'c> {
    pub(crate) fn new(client: &'c OpsGenieClient) -> Self {
        Teams { client }
    }

    fn path(team: &Identifier) -> Result<String> {
        Ok(format!("v2/teams/{}", segment(check_team(team.value())?)))
    }

    /// Every team, without members (`GET /v2/teams` is not paged).
    pub async fn list(&self) -> Result<Vec<Team>> {
        let http = self.client.http();
        let req = http.get("v2/teams")?;
        Ok(http.send_json::<Envelope<Vec<Team>>>(req).await?.data)
    }

    /// One team with its members; `Ok(None)` when there is none.
    pub async fn get_opt(&self, team: &Identifier) -> Result<Option<Team>> {
        let http = self.client.http();
        let req = http
            .get(&Self::path(team)?)?
            .query_pair("identifierType", team.kind());
        optional(http.send_json::<Envelope<Team>>(req).await).map(|o| o.map(|e| e.data))
    }

    /// One team; a missing one is an error.
    pub async fn get(&self, team: &Identifier) -> Result<Team> {
        self.get_opt(team)
            .await?
            .ok_or_else(|| Error::not_found(format!("OpsGenie team {:?}", team.value())))
    }

    /// Creates a team; its id and name.
    pub async fn create(&self, new: &NewTeam) -> Result<IdName> {
        check_team(&new.name)?;
        let http = self.client.http();
        let req = http.post("v2/teams")?.json(new)?;
        let body: SuccessResponse = http.send_json(req).await?;
        body.data
            .filter(|d| !d.id.is_empty())
            .ok_or_else(|| Error::protocol("POST /v2/teams", "the create answer holds no team id"))
    }

    /// Deletes a team.
    pub async fn delete(&self, team: &Identifier) -> Result<()> {
        let http = self.client.http();
        let req = http
            .delete(&Self::path(team)?)?
            .query_pair("identifierType", team.kind());
        http.send(req).await.map(|_| ())
    }

    /// Adds a member (`teamIdentifierType`, not `identifierType`, on member endpoints).
    /// Sent once; the connector checks the team before trying again.
    pub async fn add_member(&self, team: &Identifier, member: &TeamMember) -> Result<()> {
        for ident in [&member.user.id, &member.user.username]
            .into_iter()
            .flatten()
        {
            check_user(ident)?;
        }
        if member.user.id.is_none() && member.user.username.is_none() {
            return Err(Error::invalid_input(
                "a team member needs a user id or username",
            ));
        }
        let http = self.client.http();
        let req = http
            .post(&format!("{}/members", Self::path(team)?))?
            .query_pair("teamIdentifierType", team.kind())
            .json(member)?;
        http.send(req).await.map(|_| ())
    }

    /// Removes a member (user id or username).
    pub async fn remove_member(&self, team: &Identifier, user: &str) -> Result<()> {
        let path = format!(
            "{}/members/{}",
            Self::path(team)?,
            segment(check_user(user)?)
        );
        let http = self.client.http();
        let req = http
            .delete(&path)?
            .query_pair("teamIdentifierType", team.kind());
        http.send(req).await.map(|_| ())
    }
}
