//! Many clients at once: IAM clients create and delete providers and roles,
//! some of them racing for the same names, while STS clients assume a role.
//! Every answer must be one AWS gives (success, `EntityAlreadyExists`,
//! `NoSuchEntity`), never a server error, and afterwards the lists must hold
//! exactly what the successful creates minus the successful deletes leave.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use aws_sdk_iam::error::ProvideErrorMetadata;
use oidc_sts_harness::oidc::mint::TokenRequest;
use tokio::sync::Mutex;

use crate::{CLUSTER, PROVIDER_ARN, harness, provider_and_role};

const IAM_WORKERS: usize = 8;
const OPERATIONS_PER_WORKER: usize = 24;
const STS_WORKERS: usize = 3;
const ASSUMES_PER_WORKER: usize = 6;
/// Names every worker races for, besides its own.
const SHARED_NAMES: usize = 3;

/// The code and status of an SDK error.
macro_rules! failure {
    ($error:expr) => {
        (
            $error.code().map(str::to_owned),
            $error
                .raw_response()
                .map(|r| r.status().as_u16())
                .unwrap_or_default(),
        )
    };
}

/// What one successful operation changed: +1 for a create, -1 for a delete.
type Ledger = Arc<Mutex<BTreeMap<String, i32>>>;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_creates_deletes_and_assumes_stay_consistent() {
    let harness = harness().await;
    let role_arn = provider_and_role(&harness, "app", "system:serviceaccount:default:app").await;
    let token = harness
        .token(CLUSTER, &TokenRequest::new("default", "app"))
        .expect("a token");
    let ledger: Ledger = Arc::default();

    let mut tasks = Vec::new();
    for worker in 0..IAM_WORKERS {
        let iam = harness_e2e::iam_client(&harness, harness_e2e::DEFAULT_ACCOUNT);
        let ledger = ledger.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..OPERATIONS_PER_WORKER {
                // Half the names are the worker's own, half are shared, so
                // creates and deletes collide.
                let name = if i % 2 == 0 {
                    format!("own-{worker}-{}", i / 4)
                } else {
                    format!("shared-{}", i % SHARED_NAMES)
                };
                let delete = (i / 2) % 2 == 1;
                let provider = i % 3 != 0;
                let outcome = match (provider, delete) {
                    (true, false) => iam
                        .create_open_id_connect_provider()
                        .url(format!("https://{name}.example.com"))
                        .client_id_list("sts.amazonaws.com")
                        .send()
                        .await
                        .map(|_| ())
                        .map_err(|e| failure!(e)),
                    (true, true) => iam
                        .delete_open_id_connect_provider()
                        .open_id_connect_provider_arn(format!(
                            "arn:aws:iam::123456789012:oidc-provider/{name}.example.com"
                        ))
                        .send()
                        .await
                        .map(|_| ())
                        .map_err(|e| failure!(e)),
                    (false, false) => iam
                        .create_role()
                        .role_name(&name)
                        .assume_role_policy_document(harness_e2e::irsa_trust_policy(
                            PROVIDER_ARN,
                            "oidc.example",
                            "system:serviceaccount:a:b",
                        ))
                        .send()
                        .await
                        .map(|_| ())
                        .map_err(|e| failure!(e)),
                    (false, true) => iam
                        .delete_role()
                        .role_name(&name)
                        .send()
                        .await
                        .map(|_| ())
                        .map_err(|e| failure!(e)),
                };
                let key = if provider {
                    format!("provider {name}.example.com")
                } else {
                    format!("role {name}")
                };
                match outcome {
                    Ok(()) => {
                        *ledger.lock().await.entry(key).or_default() += if delete { -1 } else { 1 };
                    }
                    // A create may lose the race for its name and a delete
                    // may find the name gone; both are AWS's answers.
                    Err((Some(code), status))
                        if (code == "EntityAlreadyExists" && !delete && status == 409)
                            || (code == "NoSuchEntity" && delete && status == 404) => {}
                    Err(other) => panic!("{key}: an answer AWS would not give: {other:?}"),
                }
            }
        }));
    }
    for worker in 0..STS_WORKERS {
        let harness_endpoint = harness.endpoint();
        let role_arn = role_arn.clone();
        let token = token.clone();
        tasks.push(tokio::spawn(async move {
            let sts = sts_client(&harness_endpoint);
            for i in 0..ASSUMES_PER_WORKER {
                let result = sts
                    .assume_role_with_web_identity()
                    .role_arn(&role_arn)
                    .role_session_name(format!("load-{worker}-{i}"))
                    .web_identity_token(&token)
                    .send()
                    .await;
                assert!(result.is_ok(), "assume under load: {result:?}");
            }
        }));
    }
    for task in tasks {
        task.await.expect("a client task finishes");
    }

    // The ledger: each name was created at most once more than deleted.
    let ledger = ledger.lock().await;
    let mut expected_providers = BTreeSet::from([crate::ISSUER_PATH.to_owned()]);
    // The cluster's node role exists from the start, beside the test's role.
    let mut expected_roles = BTreeSet::from([
        "app".to_owned(),
        oidc_sts_harness::world::DEFAULT_NODE_ROLE.to_owned(),
    ]);
    for (key, balance) in ledger.iter() {
        assert!(
            *balance == 0 || *balance == 1,
            "{key}: {balance} more successful creates than deletes"
        );
        if *balance == 1 {
            match key.split_once(' ') {
                Some(("provider", url)) => expected_providers.insert(url.to_owned()),
                Some((_, role)) => expected_roles.insert(role.to_owned()),
                None => unreachable!("keys have a kind"),
            };
        }
    }
    let iam = harness_e2e::iam_client(&harness, harness_e2e::DEFAULT_ACCOUNT);
    let providers: BTreeSet<String> = iam
        .list_open_id_connect_providers()
        .send()
        .await
        .expect("providers are listed")
        .open_id_connect_provider_list()
        .iter()
        .filter_map(|p| p.arn())
        .map(|arn| {
            arn.split_once("oidc-provider/")
                .expect("a provider ARN")
                .1
                .to_owned()
        })
        .collect();
    assert_eq!(providers, expected_providers);
    let roles: BTreeSet<String> = iam
        .list_roles()
        .max_items(1000)
        .send()
        .await
        .expect("roles are listed")
        .roles()
        .iter()
        .map(|r| r.role_name().to_owned())
        .collect();
    assert_eq!(roles, expected_roles);
}

fn sts_client(endpoint: &str) -> aws_sdk_sts::Client {
    let config = aws_sdk_sts::Config::builder()
        .behavior_version(aws_sdk_sts::config::BehaviorVersion::latest())
        .region(aws_sdk_sts::config::Region::new(harness_e2e::REGION))
        .endpoint_url(endpoint)
        .credentials_provider(harness_e2e::credentials("AKIAIOSFODNN7EXAMPLE"))
        .build();
    aws_sdk_sts::Client::from_conf(config)
}
