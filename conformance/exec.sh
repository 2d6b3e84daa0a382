#!/usr/bin/env bash
# Run the real AWS CLI v1 inside `oidc-sts-harness exec` for each pod of the
# fixtures and assert the caller identity or the exact error line.
#
# Usage: conformance/exec.sh path/to/oidc-sts-harness
#
# Each check starts its own harness from a fixture (exec --scenario), so
# nothing outlives the check and every request stays on 127.0.0.1.
set -euo pipefail

readonly ACCOUNT=210987654321
readonly NODE_ARN="arn:aws:sts::$ACCOUNT:assumed-role/eks-nodes-role/i-80b106213388c2458"
readonly ISSUER=https://oidc.eks.us-west-2.amazonaws.com/id/5E1C0A3B7D9F24688642F0B2D4E6A8C1
readonly TOKEN_PATH=/var/run/secrets/eks.amazonaws.com/serviceaccount/token

die() {
    echo "error: $*" >&2
    exit 2
}

[[ $# -eq 1 ]] || die "usage: $0 path/to/oidc-sts-harness"
HARNESS=$1
[[ -x $HARNESS ]] || die "harness binary $HARNESS is missing or not executable; build it with: cargo build -p oidc-sts-harness"
HARNESS=$(cd "$(dirname "$HARNESS")" && pwd)/$(basename "$HARNESS")
command -v aws >/dev/null 2>&1 || die "the aws command (AWS CLI v1) is not on PATH; install it with: pip install awscli"
AWS_VERSION=$(aws --version 2>&1)
echo "# $AWS_VERSION"
[[ $AWS_VERSION == aws-cli/1.* ]] || die "this suite asserts AWS CLI v1 output, but found '$AWS_VERSION'; install v1 with: pip install awscli"

HERE=$(cd "$(dirname "$0")" && pwd)
PODS=$HERE/fixtures/pods.yaml
NO_PROVIDER=$HERE/fixtures/no-provider.yaml

# exec removes every AWS_ variable before the command starts; these only
# keep anything this script runs outside exec off real AWS.
export AWS_EC2_METADATA_DISABLED=true AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE AWS_SECRET_ACCESS_KEY=fake
unset HTTP_PROXY HTTPS_PROXY ALL_PROXY http_proxy https_proxy all_proxy

PASSED=0
FAILED=0

# check NAME EXPECTED_STATUS EXPECTED_OUTPUT SCENARIO POD COMMAND...: runs
# COMMAND in the pod and compares its exit status and its output (stdout,
# then stderr, with blank lines dropped).
check() {
    local name=$1 want_status=$2 want=$3 scenario=$4 pod=$5
    shift 5
    local out status=0
    out=$("$HARNESS" exec --scenario "$scenario" --pod "$pod" -- "$@" 2>&1) || status=$?
    out=$(printf '%s\n' "$out" | sed '/^$/d')
    if [[ $status -eq $want_status && $out =~ ^$want$ ]]; then
        PASSED=$((PASSED + 1))
        echo "ok - $name"
    else
        FAILED=$((FAILED + 1))
        echo "not ok - $name"
        echo "#   expected status $want_status and output matching: $want"
        printf '%s\n' "got status $status and output:" "$out" | sed 's/^/#   /'
    fi
}

check "web identity: the annotated role's assumed-role ARN" 0 \
    "arn:aws:sts::$ACCOUNT:assumed-role/my-app/botocore-session-[0-9]+" \
    "$PODS" default/my-pod aws sts get-caller-identity --query Arn --output text
check "pod without the injected env: the node role" 0 "$NODE_ARN" \
    "$PODS" ops/secrets-sync aws sts get-caller-identity --query Arn --output text
check "client that ignores web identity: the node role" 0 "$NODE_ARN" \
    "$PODS" default/my-pod env -u AWS_WEB_IDENTITY_TOKEN_FILE -u AWS_ROLE_ARN \
    aws sts get-caller-identity --query Arn --output text
check "node role credentials sign IAM calls" 0 "arn:aws:iam::$ACCOUNT:role/eks-nodes-role" \
    "$PODS" ops/secrets-sync aws iam get-role --role-name eks-nodes-role --query Role.Arn --output text
check "node role trusts EC2" 0 "ec2.amazonaws.com" \
    "$PODS" ops/secrets-sync aws iam get-role --role-name eks-nodes-role \
    --query 'Role.AssumeRolePolicyDocument.Statement[0].Principal.Service' --output text
check "token path the pod does not mount" 255 \
    "\[Errno 2\] No such file or directory: '$TOKEN_PATH'" \
    "$PODS" default/missing-token aws sts get-caller-identity
check "service account the role does not trust" 255 \
    "An error occurred \(AccessDenied\) when calling the AssumeRoleWithWebIdentity operation: Not authorized to perform sts:AssumeRoleWithWebIdentity" \
    "$PODS" default/other-sa aws sts get-caller-identity
check "token audience the provider does not list" 255 \
    "An error occurred \(InvalidIdentityToken\) when calling the AssumeRoleWithWebIdentity operation: Incorrect token audience" \
    "$PODS" default/wrong-audience aws sts get-caller-identity
check "issuer without an IAM OIDC provider" 255 \
    "An error occurred \(InvalidIdentityToken\) when calling the AssumeRoleWithWebIdentity operation: No OpenIDConnect provider found in your account for $ISSUER" \
    "$NO_PROVIDER" default/my-pod aws sts get-caller-identity
check "exec exits with the command's status" 7 "" "$PODS" default/my-pod sh -c 'exit 7'
check "a missing pod is named with the cluster's pods" 125 \
    "error: pods \"nope\" not found in namespace default of cluster \"prod\"; its pods: default/missing-token, default/my-pod, default/other-sa, default/wrong-audience, ops/secrets-sync" \
    "$PODS" default/nope true

echo "$PASSED passed, $FAILED failed"
[[ $FAILED -eq 0 ]]
