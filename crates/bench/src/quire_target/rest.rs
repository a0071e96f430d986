//! The REST calls a load run needs: sign up, create a document, share it.

use serde::Deserialize;
use serde_json::json;

use crate::load::LoadError;

/// A signed-in account.
#[derive(Debug, Clone)]
pub struct Account {
    pub username: String,
    /// Kept so that a saved setup can sign in again (bench accounts only).
    pub password: String,
    pub user_id: String,
    pub token: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AuthResponse {
    user: UserView,
    token: String,
}

#[derive(Deserialize)]
struct UserView {
    id: String,
}

#[derive(Deserialize)]
struct DocumentView {
    id: String,
}

/// A client of one server's REST API (cheap to clone: the connection pool is shared).
#[derive(Clone)]
pub struct Rest {
    http: reqwest::Client,
    base: String,
}

fn http_error(what: &'static str) -> impl Fn(reqwest::Error) -> LoadError {
    move |e| LoadError::Http {
        what,
        detail: e.to_string(),
    }
}

/// Fails with the server's error body unless the status is a success.
async fn success(
    what: &'static str,
    response: reqwest::Response,
) -> Result<reqwest::Response, LoadError> {
    if response.status().is_success() {
        return Ok(response);
    }
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    Err(LoadError::Http {
        what,
        detail: format!("{status}: {body}"),
    })
}

impl Rest {
    /// `base`: `http://host:port`.
    pub fn new(base: &str) -> Result<Self, LoadError> {
        let http = reqwest::Client::builder()
            .tcp_nodelay(true)
            .build()
            .map_err(http_error("building the HTTP client"))?;
        Ok(Self {
            http,
            base: base.trim_end_matches('/').to_owned(),
        })
    }

    /// Creates an account and returns it signed in.
    pub async fn signup(&self, username: &str, password: &str) -> Result<Account, LoadError> {
        self.authenticate("signup", "signup", username, password)
            .await
    }

    /// Signs in to an existing account.
    pub async fn login(&self, username: &str, password: &str) -> Result<Account, LoadError> {
        self.authenticate("login", "login", username, password)
            .await
    }

    async fn authenticate(
        &self,
        what: &'static str,
        path: &str,
        username: &str,
        password: &str,
    ) -> Result<Account, LoadError> {
        let response = self
            .http
            .post(format!("{}/api/auth/{path}", self.base))
            .json(&json!({ "username": username, "password": password }))
            .send()
            .await
            .map_err(http_error(what))?;
        let auth: AuthResponse = success(what, response)
            .await?
            .json()
            .await
            .map_err(http_error(what))?;
        Ok(Account {
            username: username.to_owned(),
            password: password.to_owned(),
            user_id: auth.user.id,
            token: auth.token,
        })
    }

    /// Creates a document owned by `owner`; returns its id.
    pub async fn create_document(&self, owner: &Account, title: &str) -> Result<String, LoadError> {
        let response = self
            .http
            .post(format!("{}/api/documents", self.base))
            .bearer_auth(&owner.token)
            .json(&json!({ "title": title }))
            .send()
            .await
            .map_err(http_error("create document"))?;
        let doc: DocumentView = success("create document", response)
            .await?
            .json()
            .await
            .map_err(http_error("create document"))?;
        Ok(doc.id)
    }

    /// Gives `user` the role `role` (`"read"` or `"write"`) on `doc`.
    pub async fn share(
        &self,
        owner: &Account,
        doc: &str,
        user: &Account,
        role: &str,
    ) -> Result<(), LoadError> {
        let response = self
            .http
            .post(format!("{}/api/documents/{doc}/collaborators", self.base))
            .bearer_auth(&owner.token)
            .json(&json!({ "userId": user.user_id, "role": role }))
            .send()
            .await
            .map_err(http_error("share document"))?;
        success("share document", response).await?;
        Ok(())
    }
}
