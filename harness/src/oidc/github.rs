//! The claims GitHub Actions puts in its OIDC tokens, for issuers of kind
//! `github`.
//!
//! Only claims GitHub documents are produced, and `sub` takes the default
//! forms GitHub documents: the environment when the job names one, else
//! `pull_request` for pull-request events, else the ref.

use serde_json::{Map, Value};

/// A workflow run, in the terms GitHub's token claims use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GithubRun {
    /// `owner/repo`.
    pub repository: String,
    /// `refs/heads/<branch>`, `refs/tags/<tag>` or `refs/pull/<n>/merge`.
    pub git_ref: String,
    pub event_name: String,
    pub environment: Option<String>,
    pub workflow: String,
    pub job_workflow_ref: String,
    pub actor: String,
    pub run_id: String,
}

impl GithubRun {
    /// Builds a push to `main` of `repository`, run by the repository owner,
    /// with the workflow file `deploy.yml`.
    pub fn new(repository: &str) -> GithubRun {
        let git_ref = "refs/heads/main".to_owned();
        GithubRun {
            repository: repository.to_owned(),
            job_workflow_ref: format!("{repository}/.github/workflows/deploy.yml@{git_ref}"),
            git_ref,
            event_name: "push".to_owned(),
            environment: None,
            workflow: "deploy".to_owned(),
            actor: owner(repository).to_owned(),
            run_id: "1".to_owned(),
        }
    }

    /// Returns `tag` for refs under `refs/tags/` and `branch` otherwise.
    // NOTE: pull-request merge refs (`refs/pull/<n>/merge`) count as
    // branches here; GitHub's documentation does not say what it sends.
    pub fn ref_type(&self) -> &'static str {
        if self.git_ref.starts_with("refs/tags/") {
            "tag"
        } else {
            "branch"
        }
    }

    /// Returns the default `sub`.
    pub fn subject(&self) -> String {
        let repo = &self.repository;
        if let Some(environment) = &self.environment {
            format!("repo:{repo}:environment:{environment}")
        } else if self.event_name == "pull_request" {
            format!("repo:{repo}:pull_request")
        } else {
            format!("repo:{repo}:ref:{}", self.git_ref)
        }
    }

    /// Returns the GitHub-specific claims and `sub`; the caller adds `iss`,
    /// `aud` and the times.
    pub fn claims(&self) -> Map<String, Value> {
        let mut claims = Map::new();
        let mut put = |name: &str, value: &str| {
            claims.insert(name.to_owned(), Value::from(value));
        };
        put("sub", &self.subject());
        put("ref", &self.git_ref);
        put("ref_type", self.ref_type());
        put("repository", &self.repository);
        put("repository_owner", owner(&self.repository));
        put("run_id", &self.run_id);
        put("actor", &self.actor);
        put("workflow", &self.workflow);
        put("event_name", &self.event_name);
        put("job_workflow_ref", &self.job_workflow_ref);
        if let Some(environment) = &self.environment {
            put("environment", environment);
        }
        claims
    }
}

fn owner(repository: &str) -> &str {
    repository
        .split_once('/')
        .map_or(repository, |(owner, _)| owner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subject_forms() {
        let mut run = GithubRun::new("example-org/demo-repo");
        assert_eq!(
            run.subject(),
            "repo:example-org/demo-repo:ref:refs/heads/main"
        );
        run.git_ref = "refs/tags/v1.2.0".into();
        assert_eq!(
            run.subject(),
            "repo:example-org/demo-repo:ref:refs/tags/v1.2.0"
        );
        assert_eq!(run.ref_type(), "tag");
        run.event_name = "pull_request".into();
        assert_eq!(run.subject(), "repo:example-org/demo-repo:pull_request");
        run.environment = Some("prod".into());
        assert_eq!(run.subject(), "repo:example-org/demo-repo:environment:prod");
        assert_eq!(run.claims()["environment"], "prod");
    }

    #[test]
    fn claims_name_the_owner_and_ref() {
        let claims = GithubRun::new("example-org/demo-repo").claims();
        assert_eq!(claims["repository_owner"], "example-org");
        assert_eq!(claims["ref_type"], "branch");
        assert_eq!(
            claims["job_workflow_ref"],
            "example-org/demo-repo/.github/workflows/deploy.yml@refs/heads/main"
        );
        assert!(!claims.contains_key("environment"));
    }
}
