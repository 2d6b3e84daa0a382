//! IAM OIDC-provider and role actions through aws-sdk-iam, with the codes,
//! statuses and messages IAM records for each failure.

use aws_sdk_iam::error::ProvideErrorMetadata;

use crate::{ISSUER, PROVIDER_ARN, THUMBPRINT, harness};

fn code_and_message<E: ProvideErrorMetadata>(error: &E) -> (String, String) {
    (
        error.code().unwrap_or_default().to_owned(),
        error.message().unwrap_or_default().to_owned(),
    )
}

#[tokio::test]
async fn provider_lifecycle() {
    let harness = harness().await;
    let iam = harness_e2e::iam_client(&harness, harness_e2e::DEFAULT_ACCOUNT);
    let created = iam
        .create_open_id_connect_provider()
        .url(ISSUER.replacen(".com/", ".com:443/", 1))
        .client_id_list("sts.amazonaws.com")
        .thumbprint_list(THUMBPRINT)
        .send()
        .await
        .expect("provider is created");
    assert_eq!(created.open_id_connect_provider_arn(), Some(PROVIDER_ARN));

    let got = iam
        .get_open_id_connect_provider()
        .open_id_connect_provider_arn(PROVIDER_ARN)
        .send()
        .await
        .expect("provider is read");
    assert_eq!(got.url(), Some(crate::ISSUER_PATH));
    assert_eq!(got.client_id_list(), ["sts.amazonaws.com"]);
    assert_eq!(got.thumbprint_list(), [THUMBPRINT]);
    assert!(got.create_date().is_some());

    iam.add_client_id_to_open_id_connect_provider()
        .open_id_connect_provider_arn(PROVIDER_ARN)
        .client_id("other")
        .send()
        .await
        .expect("client id is added");
    iam.add_client_id_to_open_id_connect_provider()
        .open_id_connect_provider_arn(PROVIDER_ARN)
        .client_id("other")
        .send()
        .await
        .expect("adding the same client id again succeeds");
    iam.remove_client_id_from_open_id_connect_provider()
        .open_id_connect_provider_arn(PROVIDER_ARN)
        .client_id("sts.amazonaws.com")
        .send()
        .await
        .expect("client id is removed");
    iam.update_open_id_connect_provider_thumbprint()
        .open_id_connect_provider_arn(PROVIDER_ARN)
        .thumbprint_list("c".repeat(40))
        .thumbprint_list("d".repeat(40))
        .send()
        .await
        .expect("thumbprints are replaced");
    let got = iam
        .get_open_id_connect_provider()
        .open_id_connect_provider_arn(PROVIDER_ARN)
        .send()
        .await
        .expect("provider is read");
    assert_eq!(got.client_id_list(), ["other"]);
    assert_eq!(got.thumbprint_list(), ["c".repeat(40), "d".repeat(40)]);

    iam.delete_open_id_connect_provider()
        .open_id_connect_provider_arn(PROVIDER_ARN)
        .send()
        .await
        .expect("provider is deleted");
    let error = iam
        .delete_open_id_connect_provider()
        .open_id_connect_provider_arn(PROVIDER_ARN)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        code_and_message(&error),
        (
            "NoSuchEntity".to_owned(),
            format!("OpenId connect Provider {PROVIDER_ARN} cannot be found.")
        )
    );
    assert_eq!(error.raw_response().map(|r| r.status().as_u16()), Some(404));
    let error = iam
        .get_open_id_connect_provider()
        .open_id_connect_provider_arn(PROVIDER_ARN)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        code_and_message(&error),
        (
            "NoSuchEntity".to_owned(),
            format!("OpenIDConnect Provider not found for arn {PROVIDER_ARN}")
        )
    );
}

#[tokio::test]
async fn provider_create_errors() {
    let harness = harness().await;
    let iam = harness_e2e::iam_client(&harness, harness_e2e::DEFAULT_ACCOUNT);
    let create = |url: &str, thumbprints: Vec<String>, client_ids: Vec<String>| {
        iam.create_open_id_connect_provider()
            .url(url)
            .set_thumbprint_list(Some(thumbprints))
            .set_client_id_list(Some(client_ids))
            .send()
    };
    let error = create("example.org", vec![THUMBPRINT.into()], vec![])
        .await
        .unwrap_err();
    assert_eq!(
        code_and_message(&error),
        (
            "ValidationError".to_owned(),
            "Invalid Open ID Connect Provider URL".to_owned()
        )
    );
    let error = create("https://a.example.com", vec![THUMBPRINT.into(); 6], vec![])
        .await
        .unwrap_err();
    assert_eq!(
        code_and_message(&error),
        (
            "InvalidInput".to_owned(),
            "Thumbprint list must contain fewer than 5 entries.".to_owned()
        )
    );
    let many: Vec<String> = (0..=100).map(|i| i.to_string()).collect();
    let error = create("https://a.example.com", vec![THUMBPRINT.into()], many)
        .await
        .unwrap_err();
    assert_eq!(
        code_and_message(&error),
        (
            "LimitExceeded".to_owned(),
            "Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: 100".to_owned()
        )
    );
    assert_eq!(error.raw_response().map(|r| r.status().as_u16()), Some(409));
    create("https://dup.example.com", vec![], vec![])
        .await
        .expect("first create succeeds");
    let error = create("https://dup.example.com", vec![], vec![])
        .await
        .unwrap_err();
    assert_eq!(
        code_and_message(&error),
        (
            "EntityAlreadyExists".to_owned(),
            "Provider with url https://dup.example.com already exists.".to_owned()
        )
    );
}

#[tokio::test]
async fn short_thumbprint_gets_constraint_message() {
    // The AWS CLI refuses a short thumbprint before sending, so this goes
    // over raw HTTP as a lax client would send it.
    let harness = harness().await;
    let raw = harness_e2e::post_form(
        &harness,
        &[
            ("Action", "CreateOpenIDConnectProvider"),
            ("Version", "2010-05-08"),
            ("Url", ISSUER),
            ("ClientIDList.member.1", "sts.amazonaws.com"),
            (
                "ThumbprintList.member.1",
                "9e99a48a9960b14926bb7f3b02e22da2b0",
            ),
        ],
    )
    .await;
    assert_eq!(raw.status, 400);
    assert!(
        raw.body.contains("<Code>ValidationError</Code>"),
        "{}",
        raw.body
    );
    assert!(raw.body.contains(
        "<Message>1 validation error detected: Value at 'thumbprintList' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 40, Member must have length greater than or equal to 40]</Message>"
    ), "{}", raw.body);
}

#[tokio::test]
async fn role_lifecycle_and_errors() {
    let harness = harness().await;
    let iam = harness_e2e::iam_client(&harness, harness_e2e::DEFAULT_ACCOUNT);
    let policy = harness_e2e::irsa_trust_policy(
        PROVIDER_ARN,
        crate::ISSUER_PATH,
        "system:serviceaccount:a:b",
    );
    let created = iam
        .create_role()
        .role_name("reader")
        .path("/team/")
        .description("reads")
        .assume_role_policy_document(&policy)
        .send()
        .await
        .expect("role is created")
        .role
        .expect("a role");
    assert_eq!(created.arn, "arn:aws:iam::123456789012:role/team/reader");
    assert!(created.role_id.starts_with("AROA") && created.role_id.len() == 21);
    assert_eq!(
        harness_e2e::decode_policy(created.assume_role_policy_document().unwrap()),
        policy
    );
    assert_eq!(created.max_session_duration, None);

    let got = iam
        .get_role()
        .role_name("reader")
        .send()
        .await
        .unwrap()
        .role
        .unwrap();
    assert_eq!(got.max_session_duration, Some(3600));
    assert_eq!(got.description.as_deref(), Some("reads"));

    let error = iam
        .create_role()
        .role_name("READER")
        .assume_role_policy_document(&policy)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        code_and_message(&error),
        (
            "EntityAlreadyExists".to_owned(),
            "Role with name reader already exists.".to_owned()
        )
    );
    let error = iam
        .get_role()
        .role_name("missing")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        code_and_message(&error),
        (
            "NoSuchEntity".to_owned(),
            "The role with name missing cannot be found.".to_owned()
        )
    );

    let bad_documents = [
        ("not valid json", "This policy contains invalid Json"),
        (
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:InvalidAction"}]}"#,
            "AssumeRole policy may only specify STS AssumeRole actions.",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole","Resource":"arn:aws:s3:::example_bucket"}]}"#,
            "Has prohibited field Resource",
        ),
    ];
    for (document, message) in bad_documents {
        let error = iam
            .update_assume_role_policy()
            .role_name("reader")
            .policy_document(document)
            .send()
            .await
            .unwrap_err();
        assert_eq!(
            code_and_message(&error),
            ("MalformedPolicyDocument".to_owned(), message.to_owned()),
            "{document}"
        );
    }

    let listed = iam.list_roles().send().await.unwrap();
    let names: Vec<&str> = listed.roles().iter().map(|r| r.role_name()).collect();
    assert_eq!(
        names,
        ["AmazonEKSNodeRole", "reader"],
        "the cluster's node role and ours"
    );
    assert!(!listed.is_truncated());
    iam.delete_role()
        .role_name("reader")
        .send()
        .await
        .expect("role is deleted");
    let error = iam
        .delete_role()
        .role_name("reader")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code_and_message(&error).0, "NoSuchEntity");
}

#[tokio::test]
async fn access_key_id_selects_the_account() {
    let harness = harness().await;
    let other = harness_e2e::iam_client(&harness, "345678901234");
    let created = other
        .create_open_id_connect_provider()
        .url(ISSUER)
        .client_id_list("sts.amazonaws.com")
        .send()
        .await
        .expect("provider is created in the other account");
    assert_eq!(
        created.open_id_connect_provider_arn(),
        Some(
            PROVIDER_ARN
                .replace("123456789012", "345678901234")
                .as_str()
        )
    );
    let default = harness_e2e::iam_client(&harness, harness_e2e::DEFAULT_ACCOUNT);
    let listed = default
        .list_open_id_connect_providers()
        .send()
        .await
        .unwrap();
    assert!(listed.open_id_connect_provider_list().is_empty());
}

#[tokio::test]
async fn strict_auth_rejects_unsigned_calls() {
    let harness = oidc_sts_harness::Harness::builder()
        .strict_auth(true)
        .start()
        .await
        .unwrap();
    let raw = harness_e2e::post_form(
        &harness,
        &[("Action", "ListRoles"), ("Version", "2010-05-08")],
    )
    .await;
    assert_eq!(raw.status, 403);
    assert!(
        raw.body.contains("<Code>MissingAuthenticationToken</Code>"),
        "{}",
        raw.body
    );
    let signed = harness_e2e::iam_client(&harness, harness_e2e::DEFAULT_ACCOUNT);
    signed
        .list_roles()
        .send()
        .await
        .expect("signed calls still work");
}
