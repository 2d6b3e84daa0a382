//! The AWS error shape, and the one place where an error becomes an HTTP
//! response.
//!
//! Every service module builds an [`AwsError`] with the wire code, status and
//! message; [`AwsError::into_response`] renders the query-protocol XML body
//! that SDKs parse (`ErrorResponse`, with `RequestId` beside `Error`, not in
//! `ResponseMetadata` as on success).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::xml::XmlWriter;

/// The emulated service that answers a request, which fixes the XML
/// namespace of its responses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Sts,
    Iam,
}

impl Service {
    /// XML namespace of the service's 2011 (STS) or 2010 (IAM) API version.
    pub fn namespace(self) -> &'static str {
        match self {
            Service::Sts => "https://sts.amazonaws.com/doc/2011-06-15/",
            Service::Iam => "https://iam.amazonaws.com/doc/2010-05-08/",
        }
    }

    /// The `Version` parameter the service accepts.
    pub fn api_version(self) -> &'static str {
        match self {
            Service::Sts => "2011-06-15",
            Service::Iam => "2010-05-08",
        }
    }
}

/// Whether the caller (`Sender`) or the service (`Receiver`) is at fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    Sender,
    Receiver,
}

/// One AWS error as it goes on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsError {
    pub service: Service,
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub fault: Fault,
}

impl AwsError {
    /// Creates a client-fault error.
    pub fn sender(
        service: Service,
        status: StatusCode,
        code: &'static str,
        message: impl Into<String>,
    ) -> Self {
        Self {
            service,
            status,
            code,
            message: message.into(),
            fault: Fault::Sender,
        }
    }

    /// `ValidationError` (400), the code of model-constraint failures.
    pub fn validation(service: Service, message: impl Into<String>) -> Self {
        Self::sender(service, StatusCode::BAD_REQUEST, "ValidationError", message)
    }

    /// Renders the error as the query-protocol XML body.
    pub fn to_xml(&self, request_id: &str) -> String {
        let fault = match self.fault {
            Fault::Sender => "Sender",
            Fault::Receiver => "Receiver",
        };
        let mut xml = XmlWriter::document("ErrorResponse", self.service.namespace());
        xml.open("Error");
        xml.text("Type", fault);
        xml.text("Code", self.code);
        xml.text("Message", &self.message);
        xml.close();
        xml.text("RequestId", request_id);
        xml.finish()
    }

    /// Renders the error as the JSON body STS sends when the request asked
    /// for `Accept: application/json`.
    pub fn to_json(&self, request_id: &str) -> String {
        let fault = match self.fault {
            Fault::Sender => "Sender",
            Fault::Receiver => "Receiver",
        };
        serde_json::json!({
            "Error": {"Code": self.code, "Message": self.message, "Type": fault},
            "RequestId": request_id,
        })
        .to_string()
    }

    /// Builds the HTTP response, XML by default or JSON when `json` is set.
    pub fn into_response(self, request_id: &str, json: bool) -> Response {
        let (body, content_type) = if json {
            (self.to_json(request_id), "application/json")
        } else {
            (self.to_xml(request_id), "text/xml")
        };
        let mut response = (self.status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        if let Ok(value) = HeaderValue::from_str(request_id) {
            headers.insert("x-amzn-requestid", value);
        }
        response
    }
}

impl std::fmt::Display for AwsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({}): {}",
            self.code,
            self.status.as_u16(),
            self.message
        )
    }
}

impl std::error::Error for AwsError {}
