//! Amazon Resource Names: parsing and the shapes the harness builds.

use std::fmt;

/// A parsed ARN: `arn:partition:service:region:account:resource`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arn {
    pub partition: String,
    pub service: String,
    pub region: String,
    pub account: String,
    pub resource: String,
}

impl Arn {
    /// Parses an ARN. Partition, service and resource must be non-empty,
    /// which is what STS checks before it reports `<arn> is invalid`.
    pub fn parse(text: &str) -> Option<Arn> {
        let mut parts = text.splitn(6, ':');
        if parts.next()? != "arn" {
            return None;
        }
        let partition = parts.next()?;
        let service = parts.next()?;
        let region = parts.next()?;
        let account = parts.next()?;
        let resource = parts.next()?;
        if partition.is_empty() || service.is_empty() || resource.is_empty() {
            return None;
        }
        Some(Arn {
            partition: partition.to_owned(),
            service: service.to_owned(),
            region: region.to_owned(),
            account: account.to_owned(),
            resource: resource.to_owned(),
        })
    }
}

impl fmt::Display for Arn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "arn:{}:{}:{}:{}:{}",
            self.partition, self.service, self.region, self.account, self.resource
        )
    }
}

/// An IAM role ARN split into the parts the STS lookup needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleArn {
    pub partition: String,
    pub account: String,
    /// The role path, `/` or `/a/b/`.
    pub path: String,
    pub name: String,
}

impl RoleArn {
    /// Reads a role ARN (`arn:aws:iam::<account>:role[/path]/name`) from a
    /// parsed ARN, or `None` when it names something else.
    pub fn from_arn(arn: &Arn) -> Option<RoleArn> {
        if arn.service != "iam" || !arn.region.is_empty() || !is_account_id(&arn.account) {
            return None;
        }
        let rest = arn.resource.strip_prefix("role/")?;
        let (path, name) = match rest.rfind('/') {
            Some(index) => (format!("/{}/", &rest[..index]), &rest[index + 1..]),
            None => ("/".to_owned(), rest),
        };
        if name.is_empty() {
            return None;
        }
        Some(RoleArn {
            partition: arn.partition.clone(),
            account: arn.account.clone(),
            path,
            name: name.to_owned(),
        })
    }
}

/// Whether the text is a 12-digit AWS account id.
pub fn is_account_id(text: &str) -> bool {
    text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit())
}

/// The DNS suffix of a partition, used to build issuer and STS host names.
pub fn partition_dns_suffix(partition: &str) -> &'static str {
    match partition {
        "aws-cn" => "amazonaws.com.cn",
        _ => "amazonaws.com",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_the_recorded_invalid_shapes() {
        for bad in [
            "nothing-valid-in-here",
            "arn::b:::something/test-role",
            "arn:a::::something/test-role",
            "arn:a:::something/test-role",
            "arn:a:a::aaaaaaaaaa:",
        ] {
            assert!(Arn::parse(bad).is_none(), "{bad} parsed");
        }
    }

    #[test]
    fn role_arn_with_path() {
        let arn = Arn::parse("arn:aws:iam::123456789012:role/team/app/reader").unwrap();
        let role = RoleArn::from_arn(&arn).unwrap();
        assert_eq!(role.path, "/team/app/");
        assert_eq!(role.name, "reader");
    }

    #[test]
    fn provider_arn_is_not_a_role() {
        let arn = Arn::parse("arn:aws:iam::123456789012:oidc-provider/example.com").unwrap();
        assert!(RoleArn::from_arn(&arn).is_none());
    }
}
