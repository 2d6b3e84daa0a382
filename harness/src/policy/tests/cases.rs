//! Decision table for conditions: one Allow statement for the EKS provider
//! with one `Condition` block, against one request context. The expected
//! decision for each row follows the IAM condition-operator documentation.

use super::support::{V, allow_with, eks_request, policy};
use crate::policy::Decision;

use V::{M, S};

/// Name, `Condition` JSON (`P:` is the provider prefix), request keys, and
/// whether IAM allows.
type Row = (
    &'static str,
    &'static str,
    &'static [(&'static str, V)],
    bool,
);

const SA: &str = "system:serviceaccount:ns:app";

const STRING_ROWS: &[Row] = &[
    (
        "string_equals_exact",
        r#"{"StringEquals":{"P:sub":"system:serviceaccount:ns:app"}}"#,
        &[("P:sub", S(SA))],
        true,
    ),
    (
        "string_equals_other_value",
        r#"{"StringEquals":{"P:sub":"system:serviceaccount:ns:app"}}"#,
        &[("P:sub", S("system:serviceaccount:other:app"))],
        false,
    ),
    (
        "string_equals_case_differs",
        r#"{"StringEquals":{"P:sub":"system:serviceaccount:ns:App"}}"#,
        &[("P:sub", S(SA))],
        false,
    ),
    (
        "string_equals_list_is_or",
        r#"{"StringEquals":{"P:sub":["x","system:serviceaccount:ns:app"]}}"#,
        &[("P:sub", S(SA))],
        true,
    ),
    (
        "string_equals_list_none_match",
        r#"{"StringEquals":{"P:sub":["x","y"]}}"#,
        &[("P:sub", S(SA))],
        false,
    ),
    (
        "string_equals_missing_key",
        r#"{"StringEquals":{"P:sub":"system:serviceaccount:ns:app"}}"#,
        &[],
        false,
    ),
    (
        "string_equals_key_case_insensitive",
        r#"{"StringEquals":{"OIDC.EKS.US-EAST-1.AMAZONAWS.COM/ID/ABC:SUB":"system:serviceaccount:ns:app"}}"#,
        &[("P:sub", S(SA))],
        true,
    ),
    (
        "string_equals_star_is_literal",
        r#"{"StringEquals":{"P:sub":"system:serviceaccount:ns:*"}}"#,
        &[("P:sub", S(SA))],
        false,
    ),
    (
        "string_equals_star_matches_star",
        r#"{"StringEquals":{"P:sub":"system:serviceaccount:ns:*"}}"#,
        &[("P:sub", S("system:serviceaccount:ns:*"))],
        true,
    ),
    (
        "string_equals_question_is_literal",
        r#"{"StringEquals":{"P:sub":"system:serviceaccount:ns:ap?"}}"#,
        &[("P:sub", S(SA))],
        false,
    ),
    (
        "string_equals_empty_value",
        r#"{"StringEquals":{"P:sub":""}}"#,
        &[("P:sub", S(""))],
        true,
    ),
    (
        "string_equals_json_number",
        r#"{"StringEquals":{"test:n":123}}"#,
        &[("test:n", S("123"))],
        true,
    ),
    (
        "string_equals_json_bool",
        r#"{"StringEquals":{"test:b":true}}"#,
        &[("test:b", S("true"))],
        true,
    ),
    (
        "string_not_equals_different",
        r#"{"StringNotEquals":{"P:sub":"system:serviceaccount:ns:other"}}"#,
        &[("P:sub", S(SA))],
        true,
    ),
    (
        "string_not_equals_same",
        r#"{"StringNotEquals":{"P:sub":"system:serviceaccount:ns:app"}}"#,
        &[("P:sub", S(SA))],
        false,
    ),
    (
        "string_not_equals_missing_key",
        r#"{"StringNotEquals":{"P:sub":"system:serviceaccount:ns:app"}}"#,
        &[],
        true,
    ),
    (
        "string_not_equals_list_none_equal",
        r#"{"StringNotEquals":{"P:sub":["a","b"]}}"#,
        &[("P:sub", S("c"))],
        true,
    ),
    (
        "string_not_equals_list_one_equal",
        r#"{"StringNotEquals":{"P:sub":["a","b"]}}"#,
        &[("P:sub", S("b"))],
        false,
    ),
    (
        "string_not_equals_case_differs",
        r#"{"StringNotEquals":{"P:sub":"A"}}"#,
        &[("P:sub", S("a"))],
        true,
    ),
    (
        "string_equals_ignore_case_match",
        r#"{"StringEqualsIgnoreCase":{"P:sub":"SYSTEM:ServiceAccount:NS:APP"}}"#,
        &[("P:sub", S(SA))],
        true,
    ),
    (
        "string_equals_ignore_case_other",
        r#"{"StringEqualsIgnoreCase":{"P:sub":"system:serviceaccount:ns:web"}}"#,
        &[("P:sub", S(SA))],
        false,
    ),
    (
        "string_equals_ignore_case_missing",
        r#"{"StringEqualsIgnoreCase":{"P:sub":"x"}}"#,
        &[],
        false,
    ),
    (
        "string_not_equals_ignore_case_same",
        r#"{"StringNotEqualsIgnoreCase":{"P:sub":"SYSTEM:SERVICEACCOUNT:NS:APP"}}"#,
        &[("P:sub", S(SA))],
        false,
    ),
    (
        "string_not_equals_ignore_case_other",
        r#"{"StringNotEqualsIgnoreCase":{"P:sub":"other"}}"#,
        &[("P:sub", S(SA))],
        true,
    ),
    (
        "string_not_equals_ignore_case_missing",
        r#"{"StringNotEqualsIgnoreCase":{"P:sub":"other"}}"#,
        &[],
        true,
    ),
    (
        "string_like_star_suffix",
        r#"{"StringLike":{"P:sub":"system:serviceaccount:ns:*"}}"#,
        &[("P:sub", S(SA))],
        true,
    ),
    (
        "string_like_star_middle",
        r#"{"StringLike":{"P:sub":"system:serviceaccount:*:app"}}"#,
        &[("P:sub", S(SA))],
        true,
    ),
    (
        "string_like_star_empty_run",
        r#"{"StringLike":{"P:sub":"system:serviceaccount:ns:app*"}}"#,
        &[("P:sub", S(SA))],
        true,
    ),
    (
        "string_like_question_one_char",
        r#"{"StringLike":{"P:sub":"system:serviceaccount:ns:ap?"}}"#,
        &[("P:sub", S(SA))],
        true,
    ),
    (
        "string_like_question_needs_char",
        r#"{"StringLike":{"P:sub":"system:serviceaccount:ns:app?"}}"#,
        &[("P:sub", S(SA))],
        false,
    ),
    (
        "string_like_case_sensitive",
        r#"{"StringLike":{"P:sub":"system:serviceaccount:NS:*"}}"#,
        &[("P:sub", S(SA))],
        false,
    ),
    (
        "string_like_without_wildcard",
        r#"{"StringLike":{"P:sub":"system:serviceaccount:ns:app"}}"#,
        &[("P:sub", S(SA))],
        true,
    ),
    (
        "string_like_prefix_needs_star",
        r#"{"StringLike":{"P:sub":"system:serviceaccount:ns"}}"#,
        &[("P:sub", S(SA))],
        false,
    ),
    (
        "string_like_missing_key",
        r#"{"StringLike":{"P:sub":"*"}}"#,
        &[],
        false,
    ),
    (
        "string_like_star_matches_empty",
        r#"{"StringLike":{"P:sub":"*"}}"#,
        &[("P:sub", S(""))],
        true,
    ),
    (
        "string_like_list_is_or",
        r#"{"StringLike":{"P:sub":["x:*","system:*"]}}"#,
        &[("P:sub", S(SA))],
        true,
    ),
    (
        "string_not_like_matching",
        r#"{"StringNotLike":{"P:sub":"system:serviceaccount:ns:*"}}"#,
        &[("P:sub", S(SA))],
        false,
    ),
    (
        "string_not_like_not_matching",
        r#"{"StringNotLike":{"P:sub":"system:serviceaccount:kube-system:*"}}"#,
        &[("P:sub", S(SA))],
        true,
    ),
    (
        "string_not_like_missing_key",
        r#"{"StringNotLike":{"P:sub":"*"}}"#,
        &[],
        true,
    ),
    (
        "string_not_like_list_none_match",
        r#"{"StringNotLike":{"P:sub":["a*","b*"]}}"#,
        &[("P:sub", S("c1"))],
        true,
    ),
    (
        "string_not_like_list_one_match",
        r#"{"StringNotLike":{"P:sub":["a*","b*"]}}"#,
        &[("P:sub", S("b1"))],
        false,
    ),
];

const NUMERIC_ROWS: &[Row] = &[
    (
        "numeric_equals_match",
        r#"{"NumericEquals":{"test:n":"5"}}"#,
        &[("test:n", S("5"))],
        true,
    ),
    (
        "numeric_equals_decimal_form",
        r#"{"NumericEquals":{"test:n":"5.0"}}"#,
        &[("test:n", S("5"))],
        true,
    ),
    (
        "numeric_equals_other",
        r#"{"NumericEquals":{"test:n":"5"}}"#,
        &[("test:n", S("6"))],
        false,
    ),
    (
        "numeric_equals_json_number",
        r#"{"NumericEquals":{"test:n":5}}"#,
        &[("test:n", S("5"))],
        true,
    ),
    (
        "numeric_not_equals_other",
        r#"{"NumericNotEquals":{"test:n":"5"}}"#,
        &[("test:n", S("6"))],
        true,
    ),
    (
        "numeric_not_equals_same",
        r#"{"NumericNotEquals":{"test:n":"5"}}"#,
        &[("test:n", S("5"))],
        false,
    ),
    (
        "numeric_not_equals_missing",
        r#"{"NumericNotEquals":{"test:n":"5"}}"#,
        &[],
        true,
    ),
    (
        "numeric_less_than_below",
        r#"{"NumericLessThan":{"test:n":"10"}}"#,
        &[("test:n", S("3"))],
        true,
    ),
    (
        "numeric_less_than_equal",
        r#"{"NumericLessThan":{"test:n":"10"}}"#,
        &[("test:n", S("10"))],
        false,
    ),
    (
        "numeric_less_than_equals_equal",
        r#"{"NumericLessThanEquals":{"test:n":"10"}}"#,
        &[("test:n", S("10"))],
        true,
    ),
    (
        "numeric_less_than_equals_above",
        r#"{"NumericLessThanEquals":{"test:n":"10"}}"#,
        &[("test:n", S("11"))],
        false,
    ),
    (
        "numeric_greater_than_above",
        r#"{"NumericGreaterThan":{"test:n":"10"}}"#,
        &[("test:n", S("10.5"))],
        true,
    ),
    (
        "numeric_greater_than_equal",
        r#"{"NumericGreaterThan":{"test:n":"10"}}"#,
        &[("test:n", S("10"))],
        false,
    ),
    (
        "numeric_greater_than_equals_equal",
        r#"{"NumericGreaterThanEquals":{"test:n":"10"}}"#,
        &[("test:n", S("10"))],
        true,
    ),
    (
        "numeric_greater_than_equals_below",
        r#"{"NumericGreaterThanEquals":{"test:n":"10"}}"#,
        &[("test:n", S("-10"))],
        false,
    ),
    (
        "numeric_request_not_number",
        r#"{"NumericLessThan":{"test:n":"10"}}"#,
        &[("test:n", S("three"))],
        false,
    ),
    (
        "numeric_missing_key",
        r#"{"NumericLessThan":{"test:n":"10"}}"#,
        &[],
        false,
    ),
    (
        "numeric_list_is_or",
        r#"{"NumericEquals":{"test:n":["1","2"]}}"#,
        &[("test:n", S("2"))],
        true,
    ),
];

const DATE_ROWS: &[Row] = &[
    (
        "date_less_than_before",
        r#"{"DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"}}"#,
        &[("aws:CurrentTime", S("2026-12-04T16:00:00Z"))],
        true,
    ),
    (
        "date_less_than_after",
        r#"{"DateLessThan":{"aws:CurrentTime":"2020-01-01T00:00:00Z"}}"#,
        &[("aws:CurrentTime", S("2026-12-04T16:00:00Z"))],
        false,
    ),
    (
        "date_greater_than_epoch_policy",
        r#"{"DateGreaterThan":{"aws:CurrentTime":"1577836800"}}"#,
        &[("aws:CurrentTime", S("2026-12-04T16:00:00Z"))],
        true,
    ),
    (
        "date_equals_across_forms",
        r#"{"DateEquals":{"aws:CurrentTime":"2023-11-14T22:13:20Z"}}"#,
        &[("aws:CurrentTime", S("1700000000"))],
        true,
    ),
    (
        "date_equals_with_offset",
        r#"{"DateEquals":{"aws:CurrentTime":"2023-11-14T23:13:20+01:00"}}"#,
        &[("aws:CurrentTime", S("2023-11-14T22:13:20Z"))],
        true,
    ),
    (
        "date_not_equals_other",
        r#"{"DateNotEquals":{"aws:CurrentTime":"2023-11-14T22:13:20Z"}}"#,
        &[("aws:CurrentTime", S("2023-11-14T22:13:21Z"))],
        true,
    ),
    (
        "date_not_equals_missing",
        r#"{"DateNotEquals":{"aws:CurrentTime":"2023-11-14T22:13:20Z"}}"#,
        &[],
        true,
    ),
    (
        "date_less_than_equals_boundary",
        r#"{"DateLessThanEquals":{"aws:CurrentTime":"2023-11-14T22:13:20Z"}}"#,
        &[("aws:CurrentTime", S("2023-11-14T22:13:20Z"))],
        true,
    ),
    (
        "date_greater_than_equals_boundary",
        r#"{"DateGreaterThanEquals":{"aws:CurrentTime":"2023-11-14"}}"#,
        &[("aws:CurrentTime", S("2023-11-14T00:00:00Z"))],
        true,
    ),
    (
        "date_request_unparsable",
        r#"{"DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"}}"#,
        &[("aws:CurrentTime", S("tomorrow"))],
        false,
    ),
    (
        "date_missing_key",
        r#"{"DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"}}"#,
        &[],
        false,
    ),
    (
        "date_epoch_request_key",
        r#"{"DateLessThan":{"aws:EpochTime":"2030-01-01T00:00:00Z"}}"#,
        &[("aws:EpochTime", S("1700000000"))],
        true,
    ),
];

const BOOL_NULL_BINARY_ROWS: &[Row] = &[
    (
        "bool_true_match",
        r#"{"Bool":{"aws:SecureTransport":"true"}}"#,
        &[("aws:SecureTransport", S("true"))],
        true,
    ),
    (
        "bool_true_against_false",
        r#"{"Bool":{"aws:SecureTransport":"true"}}"#,
        &[("aws:SecureTransport", S("false"))],
        false,
    ),
    (
        "bool_false_match",
        r#"{"Bool":{"aws:SecureTransport":"false"}}"#,
        &[("aws:SecureTransport", S("false"))],
        true,
    ),
    (
        "bool_json_literal",
        r#"{"Bool":{"aws:SecureTransport":true}}"#,
        &[("aws:SecureTransport", S("true"))],
        true,
    ),
    (
        "bool_request_not_bool",
        r#"{"Bool":{"aws:SecureTransport":"true"}}"#,
        &[("aws:SecureTransport", S("yes"))],
        false,
    ),
    (
        "bool_missing_key",
        r#"{"Bool":{"aws:SecureTransport":"true"}}"#,
        &[],
        false,
    ),
    (
        "bool_false_missing_key",
        r#"{"Bool":{"aws:SecureTransport":"false"}}"#,
        &[],
        false,
    ),
    (
        "null_true_key_missing",
        r#"{"Null":{"P:amr":"true"}}"#,
        &[],
        true,
    ),
    (
        "null_true_key_present",
        r#"{"Null":{"P:amr":"true"}}"#,
        &[("P:amr", S("x"))],
        false,
    ),
    (
        "null_false_key_present",
        r#"{"Null":{"P:amr":"false"}}"#,
        &[("P:amr", S("x"))],
        true,
    ),
    (
        "null_false_key_missing",
        r#"{"Null":{"P:amr":"false"}}"#,
        &[],
        false,
    ),
    (
        "null_true_empty_list",
        r#"{"Null":{"P:amr":"true"}}"#,
        &[("P:amr", M(&[]))],
        true,
    ),
    (
        "binary_equals_match",
        r#"{"BinaryEquals":{"test:bin":"aGVsbG8="}}"#,
        &[("test:bin", S("aGVsbG8="))],
        true,
    ),
    (
        "binary_equals_other",
        r#"{"BinaryEquals":{"test:bin":"aGVsbG8="}}"#,
        &[("test:bin", S("d29ybGQ="))],
        false,
    ),
    (
        "binary_equals_request_not_base64",
        r#"{"BinaryEquals":{"test:bin":"aGVsbG8="}}"#,
        &[("test:bin", S("hello!"))],
        false,
    ),
    (
        "binary_equals_missing_key",
        r#"{"BinaryEquals":{"test:bin":"aGVsbG8="}}"#,
        &[],
        false,
    ),
];

const IP_ARN_ROWS: &[Row] = &[
    (
        "ip_address_in_cidr",
        r#"{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}"#,
        &[("aws:SourceIp", S("203.0.113.7"))],
        true,
    ),
    (
        "ip_address_outside_cidr",
        r#"{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}"#,
        &[("aws:SourceIp", S("198.51.100.7"))],
        false,
    ),
    (
        "ip_address_bare_address",
        r#"{"IpAddress":{"aws:SourceIp":"203.0.113.7"}}"#,
        &[("aws:SourceIp", S("203.0.113.7"))],
        true,
    ),
    (
        "ip_address_v6_cidr",
        r#"{"IpAddress":{"aws:SourceIp":"2001:db8::/32"}}"#,
        &[("aws:SourceIp", S("2001:db8:5::1"))],
        true,
    ),
    (
        "ip_address_family_mismatch",
        r#"{"IpAddress":{"aws:SourceIp":"2001:db8::/32"}}"#,
        &[("aws:SourceIp", S("203.0.113.7"))],
        false,
    ),
    (
        "ip_address_list_is_or",
        r#"{"IpAddress":{"aws:SourceIp":["10.0.0.0/8","203.0.113.0/24"]}}"#,
        &[("aws:SourceIp", S("203.0.113.7"))],
        true,
    ),
    (
        "ip_address_missing_key",
        r#"{"IpAddress":{"aws:SourceIp":"0.0.0.0/0"}}"#,
        &[],
        false,
    ),
    (
        "ip_address_request_garbage",
        r#"{"IpAddress":{"aws:SourceIp":"0.0.0.0/0"}}"#,
        &[("aws:SourceIp", S("not-an-ip"))],
        false,
    ),
    (
        "not_ip_address_outside",
        r#"{"NotIpAddress":{"aws:SourceIp":"203.0.113.0/24"}}"#,
        &[("aws:SourceIp", S("198.51.100.7"))],
        true,
    ),
    (
        "not_ip_address_inside",
        r#"{"NotIpAddress":{"aws:SourceIp":"203.0.113.0/24"}}"#,
        &[("aws:SourceIp", S("203.0.113.7"))],
        false,
    ),
    (
        "not_ip_address_missing_key",
        r#"{"NotIpAddress":{"aws:SourceIp":"203.0.113.0/24"}}"#,
        &[],
        true,
    ),
    (
        "not_ip_address_list_is_and",
        r#"{"NotIpAddress":{"aws:SourceIp":["10.0.0.0/8","203.0.113.0/24"]}}"#,
        &[("aws:SourceIp", S("10.1.2.3"))],
        false,
    ),
    (
        "arn_equals_exact",
        r#"{"ArnEquals":{"aws:SourceArn":"arn:aws:iam::111122223333:role/app"}}"#,
        &[("aws:SourceArn", S("arn:aws:iam::111122223333:role/app"))],
        true,
    ),
    (
        "arn_equals_accepts_wildcard",
        r#"{"ArnEquals":{"aws:SourceArn":"arn:aws:iam::111122223333:role/*"}}"#,
        &[("aws:SourceArn", S("arn:aws:iam::111122223333:role/app"))],
        true,
    ),
    (
        "arn_like_account_wildcard",
        r#"{"ArnLike":{"aws:SourceArn":"arn:aws:iam::*:role/app"}}"#,
        &[("aws:SourceArn", S("arn:aws:iam::111122223333:role/app"))],
        true,
    ),
    (
        "arn_like_service_segment_differs",
        r#"{"ArnLike":{"aws:SourceArn":"arn:aws:s3:::*"}}"#,
        &[("aws:SourceArn", S("arn:aws:iam::111122223333:role/app"))],
        false,
    ),
    (
        "arn_like_question_in_segment",
        r#"{"ArnLike":{"aws:SourceArn":"arn:aws:iam::11112222333?:role/app"}}"#,
        &[("aws:SourceArn", S("arn:aws:iam::111122223333:role/app"))],
        true,
    ),
    (
        "arn_like_case_sensitive",
        r#"{"ArnLike":{"aws:SourceArn":"arn:aws:iam::111122223333:role/App"}}"#,
        &[("aws:SourceArn", S("arn:aws:iam::111122223333:role/app"))],
        false,
    ),
    (
        "arn_like_request_not_arn",
        r#"{"ArnLike":{"aws:SourceArn":"arn:aws:iam::*:role/app"}}"#,
        &[("aws:SourceArn", S("role/app"))],
        false,
    ),
    (
        "arn_like_missing_key",
        r#"{"ArnLike":{"aws:SourceArn":"arn:aws:iam::*:role/app"}}"#,
        &[],
        false,
    ),
    (
        "arn_not_equals_other",
        r#"{"ArnNotEquals":{"aws:SourceArn":"arn:aws:iam::111122223333:role/other"}}"#,
        &[("aws:SourceArn", S("arn:aws:iam::111122223333:role/app"))],
        true,
    ),
    (
        "arn_not_like_matching",
        r#"{"ArnNotLike":{"aws:SourceArn":"arn:aws:iam::111122223333:role/*"}}"#,
        &[("aws:SourceArn", S("arn:aws:iam::111122223333:role/app"))],
        false,
    ),
    (
        "arn_not_like_missing_key",
        r#"{"ArnNotLike":{"aws:SourceArn":"arn:aws:iam::111122223333:role/*"}}"#,
        &[],
        true,
    ),
];

const QUALIFIER_ROWS: &[Row] = &[
    (
        "if_exists_missing_key",
        r#"{"StringEqualsIfExists":{"P:amr":"x"}}"#,
        &[],
        true,
    ),
    (
        "if_exists_present_match",
        r#"{"StringEqualsIfExists":{"P:amr":"x"}}"#,
        &[("P:amr", S("x"))],
        true,
    ),
    (
        "if_exists_present_other",
        r#"{"StringEqualsIfExists":{"P:amr":"x"}}"#,
        &[("P:amr", S("y"))],
        false,
    ),
    (
        "numeric_if_exists_missing_key",
        r#"{"NumericLessThanIfExists":{"test:n":"1"}}"#,
        &[],
        true,
    ),
    (
        "ip_if_exists_missing_key",
        r#"{"IpAddressIfExists":{"aws:SourceIp":"10.0.0.0/8"}}"#,
        &[],
        true,
    ),
    (
        "ip_if_exists_present_outside",
        r#"{"IpAddressIfExists":{"aws:SourceIp":"10.0.0.0/8"}}"#,
        &[("aws:SourceIp", S("203.0.113.7"))],
        false,
    ),
    (
        "bool_if_exists_missing_key",
        r#"{"BoolIfExists":{"aws:SecureTransport":"true"}}"#,
        &[],
        true,
    ),
    (
        "date_if_exists_missing_key",
        r#"{"DateLessThanIfExists":{"test:d":"2020-01-01"}}"#,
        &[],
        true,
    ),
    (
        "arn_if_exists_missing_key",
        r#"{"ArnLikeIfExists":{"aws:SourceArn":"arn:aws:iam::*:role/x"}}"#,
        &[],
        true,
    ),
    (
        "not_like_if_exists_present_match",
        r#"{"StringNotLikeIfExists":{"P:sub":"system:*"}}"#,
        &[("P:sub", S(SA))],
        false,
    ),
    (
        "for_any_value_one_matches",
        r#"{"ForAnyValue:StringEquals":{"P:amr":"authenticated"}}"#,
        &[("P:amr", M(&["authenticated", "graph.facebook.com"]))],
        true,
    ),
    (
        "for_any_value_none_match",
        r#"{"ForAnyValue:StringEquals":{"P:amr":"authenticated"}}"#,
        &[("P:amr", M(&["unauthenticated"]))],
        false,
    ),
    (
        "for_any_value_missing_key",
        r#"{"ForAnyValue:StringEquals":{"P:amr":"authenticated"}}"#,
        &[],
        false,
    ),
    (
        "for_any_value_empty_list",
        r#"{"ForAnyValue:StringEquals":{"P:amr":"authenticated"}}"#,
        &[("P:amr", M(&[]))],
        false,
    ),
    (
        "for_any_value_single_valued_key",
        r#"{"ForAnyValue:StringEquals":{"P:sub":"system:serviceaccount:ns:app"}}"#,
        &[("P:sub", S(SA))],
        true,
    ),
    (
        "for_any_value_like",
        r#"{"ForAnyValue:StringLike":{"P:amr":"*facebook*"}}"#,
        &[("P:amr", M(&["authenticated", "graph.facebook.com"]))],
        true,
    ),
    (
        "for_any_value_not_equals_some_other",
        r#"{"ForAnyValue:StringNotEquals":{"P:amr":"a"}}"#,
        &[("P:amr", M(&["a", "b"]))],
        true,
    ),
    (
        "for_any_value_not_equals_all_excluded",
        r#"{"ForAnyValue:StringNotEquals":{"P:amr":["a","b"]}}"#,
        &[("P:amr", M(&["a", "b"]))],
        false,
    ),
    (
        "for_any_value_if_exists_missing_key",
        r#"{"ForAnyValue:StringEqualsIfExists":{"P:amr":"a"}}"#,
        &[],
        true,
    ),
    (
        "for_any_value_numeric",
        r#"{"ForAnyValue:NumericGreaterThan":{"test:n":"10"}}"#,
        &[("test:n", M(&["1", "20"]))],
        true,
    ),
    (
        "for_all_values_all_match",
        r#"{"ForAllValues:StringEquals":{"P:amr":["a","b","c"]}}"#,
        &[("P:amr", M(&["a", "b"]))],
        true,
    ),
    (
        "for_all_values_one_outside",
        r#"{"ForAllValues:StringEquals":{"P:amr":["a","b"]}}"#,
        &[("P:amr", M(&["a", "z"]))],
        false,
    ),
    (
        "for_all_values_missing_key",
        r#"{"ForAllValues:StringEquals":{"P:amr":["a","b"]}}"#,
        &[],
        true,
    ),
    (
        "for_all_values_empty_list",
        r#"{"ForAllValues:StringEquals":{"P:amr":["a","b"]}}"#,
        &[("P:amr", M(&[]))],
        true,
    ),
    (
        "for_all_values_not_like_none_match",
        r#"{"ForAllValues:StringNotLike":{"P:amr":"x*"}}"#,
        &[("P:amr", M(&["a", "b"]))],
        true,
    ),
    (
        "for_all_values_not_like_one_matches",
        r#"{"ForAllValues:StringNotLike":{"P:amr":"x*"}}"#,
        &[("P:amr", M(&["a", "x1"]))],
        false,
    ),
    (
        "for_all_values_if_exists_missing_key",
        r#"{"ForAllValues:StringLikeIfExists":{"P:amr":"a*"}}"#,
        &[],
        true,
    ),
    (
        "for_all_values_ip",
        r#"{"ForAllValues:IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#,
        &[("aws:SourceIp", M(&["10.0.0.1", "10.9.9.9"]))],
        true,
    ),
    (
        "multivalued_without_qualifier_any",
        r#"{"StringEquals":{"P:amr":"b"}}"#,
        &[("P:amr", M(&["a", "b"]))],
        true,
    ),
    (
        "multivalued_negated_without_qualifier",
        r#"{"StringNotEquals":{"P:amr":"a"}}"#,
        &[("P:amr", M(&["a", "b"]))],
        false,
    ),
    (
        "null_with_qualifier_tests_presence",
        r#"{"ForAnyValue:Null":{"P:amr":"true"}}"#,
        &[],
        true,
    ),
];

const COMBINATION_ROWS: &[Row] = &[
    (
        "two_keys_both_match",
        r#"{"StringEquals":{"P:sub":"system:serviceaccount:ns:app","P:aud":"sts.amazonaws.com"}}"#,
        &[("P:sub", S(SA)), ("P:aud", S("sts.amazonaws.com"))],
        true,
    ),
    (
        "two_keys_one_fails",
        r#"{"StringEquals":{"P:sub":"system:serviceaccount:ns:app","P:aud":"sts.amazonaws.com"}}"#,
        &[("P:sub", S(SA)), ("P:aud", S("other"))],
        false,
    ),
    (
        "two_operators_both_match",
        r#"{"StringEquals":{"P:aud":"sts.amazonaws.com"},"StringLike":{"P:sub":"system:serviceaccount:ns:*"}}"#,
        &[("P:sub", S(SA)), ("P:aud", S("sts.amazonaws.com"))],
        true,
    ),
    (
        "two_operators_one_fails",
        r#"{"StringEquals":{"P:aud":"sts.amazonaws.com"},"StringLike":{"P:sub":"system:serviceaccount:kube-system:*"}}"#,
        &[("P:sub", S(SA)), ("P:aud", S("sts.amazonaws.com"))],
        false,
    ),
    (
        "allow_and_exclusion_same_key",
        r#"{"StringLike":{"P:sub":"system:serviceaccount:ns:*"},"StringNotEquals":{"P:sub":"system:serviceaccount:ns:app"}}"#,
        &[("P:sub", S(SA))],
        false,
    ),
    ("empty_condition_block", r#"{}"#, &[], true),
    ("empty_operator_block", r#"{"StringEquals":{}}"#, &[], true),
    (
        "variable_substituted",
        r#"{"StringEquals":{"sts:RoleSessionName":"${test:expected}"}}"#,
        &[("test:expected", S("s1")), ("sts:RoleSessionName", S("s1"))],
        true,
    ),
    (
        "variable_substituted_other",
        r#"{"StringEquals":{"sts:RoleSessionName":"${test:expected}"}}"#,
        &[("test:expected", S("s1")), ("sts:RoleSessionName", S("s2"))],
        false,
    ),
    (
        "variable_key_missing",
        r#"{"StringEquals":{"sts:RoleSessionName":"${test:expected}"}}"#,
        &[("sts:RoleSessionName", S(""))],
        false,
    ),
    (
        "variable_default_used",
        r#"{"StringEquals":{"sts:RoleSessionName":"${test:expected, 'fallback'}"}}"#,
        &[("sts:RoleSessionName", S("fallback"))],
        true,
    ),
    (
        "variable_inside_like",
        r#"{"StringLike":{"P:sub":"system:serviceaccount:${test:ns}:*"}}"#,
        &[("test:ns", S("ns")), ("P:sub", S(SA))],
        true,
    ),
    (
        "variable_value_not_wildcard",
        r#"{"StringLike":{"P:sub":"${test:pattern}"}}"#,
        &[("test:pattern", S("*")), ("P:sub", S(SA))],
        false,
    ),
    (
        "variable_escaped_star_literal",
        r#"{"StringLike":{"test:v":"a${*}"}}"#,
        &[("test:v", S("ab"))],
        false,
    ),
    (
        "variable_escaped_star_matches_star",
        r#"{"StringLike":{"test:v":"a${*}"}}"#,
        &[("test:v", S("a*"))],
        true,
    ),
    (
        "variable_in_arn_like",
        r#"{"ArnLike":{"aws:SourceArn":"arn:aws:iam::${test:acct}:role/*"}}"#,
        &[
            ("test:acct", S("111122223333")),
            ("aws:SourceArn", S("arn:aws:iam::111122223333:role/app")),
        ],
        true,
    ),
    (
        "variable_empty_name_never_matches",
        r#"{"StringEquals":{"test:v":"${}"}}"#,
        &[("test:v", S(""))],
        false,
    ),
];

fn run_rows(rows: &[Row]) {
    for (name, condition, keys, allowed) in rows {
        let text = allow_with(condition);
        let evaluation = policy(&text).evaluate(&eks_request(keys));
        let expected = if *allowed {
            Decision::Allow
        } else {
            Decision::ImplicitDeny
        };
        assert_eq!(evaluation.decision, expected, "case {name}: {text}");
    }
}

#[test]
fn string_operators_table() {
    run_rows(STRING_ROWS);
}

#[test]
fn numeric_operators_table() {
    run_rows(NUMERIC_ROWS);
}

#[test]
fn date_operators_table() {
    run_rows(DATE_ROWS);
}

#[test]
fn bool_null_binary_table() {
    run_rows(BOOL_NULL_BINARY_ROWS);
}

#[test]
fn ip_and_arn_operators_table() {
    run_rows(IP_ARN_ROWS);
}

#[test]
fn qualifiers_and_if_exists_table() {
    run_rows(QUALIFIER_ROWS);
}

#[test]
fn combinations_and_variables_table() {
    run_rows(COMBINATION_ROWS);
}

#[test]
fn legacy_version_keeps_variables_literal() {
    let text = r#"{"Version":"2008-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"test:v":"${test:expected}"}}}}"#;
    let policy = policy(text);
    let substituted = eks_request(&[("test:expected", S("x")), ("test:v", S("x"))]);
    let literal = eks_request(&[("test:v", S("${test:expected}"))]);
    assert!(!policy.evaluate(&substituted).allowed());
    assert!(policy.evaluate(&literal).allowed());
}

/// Counts the rows so the table cannot shrink unnoticed.
#[test]
fn condition_table_size() {
    let rows = STRING_ROWS.len()
        + NUMERIC_ROWS.len()
        + DATE_ROWS.len()
        + BOOL_NULL_BINARY_ROWS.len()
        + IP_ARN_ROWS.len()
        + QUALIFIER_ROWS.len()
        + COMBINATION_ROWS.len();
    assert!(rows >= 150, "only {rows} condition rows");
}

/// Collects every `Condition` block of the tables, for the property tests.
pub(super) fn all_conditions() -> Vec<&'static str> {
    [
        STRING_ROWS,
        NUMERIC_ROWS,
        DATE_ROWS,
        BOOL_NULL_BINARY_ROWS,
        IP_ARN_ROWS,
        QUALIFIER_ROWS,
        COMBINATION_ROWS,
    ]
    .iter()
    .flat_map(|rows| rows.iter().map(|row| row.1))
    .collect()
}
