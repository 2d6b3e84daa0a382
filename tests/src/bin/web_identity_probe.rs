//! A stand-in for a program in a pod: it loads AWS configuration the way any
//! SDK user does, from the environment (`AWS_ROLE_ARN`,
//! `AWS_WEB_IDENTITY_TOKEN_FILE`, `AWS_ENDPOINT_URL_STS`), asks the default
//! credential chain for credentials, and prints the access key id, or the
//! error chain and exit code 1.
//!
//! Tests run it as a child process because the web identity provider reads
//! the process environment, and setting that inside a test binary would
//! leak into every other test.

use aws_config::BehaviorVersion;
use aws_credential_types::provider::ProvideCredentials;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    if std::env::var("AWS_ENDPOINT_URL_STS").is_err() {
        eprintln!("AWS_ENDPOINT_URL_STS is not set; refusing to call a real STS endpoint");
        return std::process::ExitCode::from(2);
    }
    let config = aws_config::defaults(BehaviorVersion::latest()).load().await;
    let Some(provider) = config.credentials_provider() else {
        eprintln!("no credentials provider configured");
        return std::process::ExitCode::from(1);
    };
    match provider.provide_credentials().await {
        Ok(credentials) => {
            println!("{}", credentials.access_key_id());
            std::process::ExitCode::SUCCESS
        }
        Err(error) => {
            let mut message = error.to_string();
            let mut source = std::error::Error::source(&error);
            while let Some(cause) = source {
                message.push_str(": ");
                message.push_str(&cause.to_string());
                source = cause.source();
            }
            eprintln!("{message}");
            std::process::ExitCode::from(1)
        }
    }
}
