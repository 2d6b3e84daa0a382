#!/usr/bin/env bash
# Replay the EKS IRSA setup with the real AWS CLI v1 against a local harness
# and assert each output and error line exactly.
#
# Usage: conformance/aws-cli.sh path/to/oidc-sts-harness
#
# Every aws command gets fake credentials and an explicit --endpoint-url that
# points at the harness on 127.0.0.1, so no request reaches AWS.
set -euo pipefail

readonly CLUSTER_NAME=demo
readonly REGION=ap-northeast-2
readonly CLUSTER_ID=C891F985BAF5A4C1C7ABBA6A00DFD39E
readonly ACCOUNT=123456789012
readonly ISSUER_HOST_PATH="oidc.eks.$REGION.amazonaws.com/id/$CLUSTER_ID"
readonly ISSUER="https://$ISSUER_HOST_PATH"
readonly PROVIDER_ARN="arn:aws:iam::$ACCOUNT:oidc-provider/$ISSUER_HOST_PATH"
readonly ROLE_NAME=my-app
readonly ROLE_ARN="arn:aws:iam::$ACCOUNT:role/$ROLE_NAME"
readonly SUBJECT="system:serviceaccount:default:my-app"
# Thumbprint registered with the provider, the same value the Rust flow test
# uses. STS in the harness does not compare it with any TLS chain.
readonly THUMBPRINT=9e99a48a9960b14926bb7f3b02e22da2b0ab7280
# Seconds to wait for the harness to print its `listening on` line.
readonly STARTUP_TIMEOUT=20

die() {
    echo "error: $*" >&2
    exit 2
}

if [[ $# -ne 1 ]]; then
    die "usage: $0 path/to/oidc-sts-harness"
fi
HARNESS=$1
[[ -x $HARNESS ]] || die "harness binary $HARNESS is missing or not executable; build it with: cargo build -p oidc-sts-harness"
HARNESS=$(cd "$(dirname "$HARNESS")" && pwd)/$(basename "$HARNESS")

if ! command -v aws >/dev/null 2>&1; then
    die "the aws command (AWS CLI v1) is not on PATH; install it with: pip install awscli"
fi
AWS_VERSION=$(aws --version 2>&1)
echo "# $AWS_VERSION"
if [[ $AWS_VERSION != aws-cli/1.* ]]; then
    die "this suite asserts AWS CLI v1 output, but found '$AWS_VERSION'; install v1 with: pip install awscli"
fi
command -v python3 >/dev/null 2>&1 || die "python3 is required to parse and edit JSON and XML"
command -v curl >/dev/null 2>&1 || die "curl is required for the raw IAM request"

# Fake credentials and no shared config, so the CLI signs with a key the
# harness maps to account 123456789012 and never reads a real profile.
export AWS_EC2_METADATA_DISABLED=true
export AWS_ACCESS_KEY_ID=$ACCOUNT
export AWS_SECRET_ACCESS_KEY=fake
export AWS_DEFAULT_REGION=$REGION
export AWS_CONFIG_FILE=/dev/null
export AWS_SHARED_CREDENTIALS_FILE=/dev/null
# The CLI keeps its default retry settings, because with AWS_RETRY_MODE=standard
# and AWS_MAX_ATTEMPTS=1 botocore adds "(reached max retries: 0)" to error lines.
unset AWS_MAX_ATTEMPTS AWS_RETRY_MODE
unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN AWS_SECURITY_TOKEN
unset AWS_ROLE_ARN AWS_ROLE_SESSION_NAME AWS_WEB_IDENTITY_TOKEN_FILE
unset AWS_ENDPOINT_URL AWS_ENDPOINT_URL_STS AWS_ENDPOINT_URL_IAM AWS_ENDPOINT_URL_EKS AWS_CA_BUNDLE
# Without proxies, requests to 127.0.0.1 go straight to the harness.
unset HTTP_PROXY HTTPS_PROXY ALL_PROXY http_proxy https_proxy all_proxy

ENDPOINT=
WORK=$(mktemp -d "${TMPDIR:-/tmp}/aws-cli-conformance.XXXXXX")
HARNESS_PID=
PASSED=0
FAILED=0

print_harness_log() {
    echo "# harness stderr:"
    sed 's/^/#   /' "$WORK/harness.stderr" 2>/dev/null || true
}

cleanup() {
    local status=$?
    if [[ -n $HARNESS_PID ]] && kill -0 "$HARNESS_PID" 2>/dev/null; then
        if [[ $status -ne 0 && -n $ENDPOINT ]]; then
            echo "# STS decisions (GET /_harness/decisions), one line per check:"
            curl -sS --noproxy '*' --max-time 5 "$ENDPOINT/_harness/decisions" 2>&1 |
                python3 -c '
import json, sys
text = sys.stdin.read()
try:
    decisions = json.loads(text)
except ValueError:
    print(text)
    sys.exit()
for decision in decisions:
    outcome = decision["outcome"]
    print(decision["role_session_name"], decision["subject"], "->",
          outcome.get("code") or outcome.get("result"), "decided by", decision["decided_by"])
    for entry in decision["trace"]:
        print("   ", "pass" if entry["passed"] else "FAIL", entry["check"] + ":", entry["summary"])
' | sed 's/^/#   /' || true
        fi
        kill "$HARNESS_PID" 2>/dev/null || true
        wait "$HARNESS_PID" 2>/dev/null || true
    fi
    if [[ $status -ne 0 ]]; then
        print_harness_log
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

# Create the log files first, because the background job may open them only
# after the loop below starts reading.
: >"$WORK/harness.stdout"
: >"$WORK/harness.stderr"
NO_COLOR=1 "$HARNESS" serve --listen 127.0.0.1:0 \
    --cluster "$CLUSTER_NAME@$REGION/$CLUSTER_ID" \
    >"$WORK/harness.stdout" 2>"$WORK/harness.stderr" </dev/null &
HARNESS_PID=$!

for ((tick = 0; tick < STARTUP_TIMEOUT * 10; tick++)); do
    ENDPOINT=$(sed -n 's/^listening on \(http:\/\/.*\)$/\1/p' "$WORK/harness.stdout")
    [[ -n $ENDPOINT ]] && break
    kill -0 "$HARNESS_PID" 2>/dev/null || die "the harness exited before it printed 'listening on'"
    sleep 0.1
done
[[ -n $ENDPOINT ]] || die "the harness printed no 'listening on' line within $STARTUP_TIMEOUT s"
echo "# harness listening on $ENDPOINT (pid $HARNESS_PID)"

# The documented commands read and write trust-policy.json in the current directory.
cd "$WORK"

pass() {
    PASSED=$((PASSED + 1))
    echo "ok - $1"
}

# Record a failed check; the remaining arguments are printed as diagnostics,
# with the values of secret keys and session tokens replaced by "<redacted>".
fail() {
    FAILED=$((FAILED + 1))
    echo "not ok - $1"
    shift
    local line
    for line in "$@"; do
        printf '%s\n' "$line" |
            sed -E 's/("(SecretAccessKey|SessionToken)": )"[^"]*"/\1"<redacted>"/; s/^/#   /'
    done
}

# Run one aws command against the harness and keep its exit status, stdout
# and stderr in AWS_STATUS, AWS_OUT and AWS_ERR.
run_aws() {
    if aws --endpoint-url "$ENDPOINT" "$@" >"$WORK/aws.stdout" 2>"$WORK/aws.stderr" </dev/null; then
        AWS_STATUS=0
    else
        AWS_STATUS=$?
    fi
    AWS_OUT=$(cat "$WORK/aws.stdout")
    AWS_ERR=$(cat "$WORK/aws.stderr")
}

# Print the `An error occurred (...)` line of the last aws command, if any.
error_line() {
    grep -m1 '^An error occurred (' <<<"$AWS_ERR" || true
}

check_equal() {
    local name=$1 expected=$2 actual=$3
    if [[ $actual == "$expected" ]]; then
        pass "$name"
    else
        fail "$name" "expected: $expected" "actual:   $actual"
    fi
}

# Check that the last aws command succeeded and printed exactly EXPECTED.
check_output() {
    local name=$1 expected=$2
    if [[ $AWS_STATUS -ne 0 ]]; then
        fail "$name" "aws exited with $AWS_STATUS" "stderr: $AWS_ERR"
        return
    fi
    check_equal "$name" "$expected" "$AWS_OUT"
}

# Check that the last aws command failed with a service error whose error
# line is exactly EXPECTED. AWS CLI v1 exits with 255 for service errors and
# for client-side errors alike (v2 uses 254 for service errors), so the
# error line is what tells them apart.
check_error() {
    local name=$1 expected=$2
    if [[ $AWS_STATUS -ne 255 ]]; then
        fail "$name" "expected exit status 255, got $AWS_STATUS" \
            "stdout: $AWS_OUT" "stderr: $AWS_ERR"
        return
    fi
    check_equal "$name" "$expected" "$(error_line)"
}

# Check that the last aws command failed with a service error whose error
# line starts with PREFIX and matches the extended regular expression PATTERN.
check_error_pattern() {
    local name=$1 prefix=$2 pattern=$3 line
    line=$(error_line)
    if [[ $AWS_STATUS -ne 255 ]]; then
        fail "$name" "expected exit status 255, got $AWS_STATUS" \
            "stdout: $AWS_OUT" "stderr: $AWS_ERR"
    elif [[ $line != "$prefix"* ]]; then
        fail "$name" "expected a line starting: $prefix" "actual:   $line"
    elif ! grep -Eq "$pattern" <<<"$line"; then
        fail "$name" "expected a line matching: $pattern" "actual:   $line"
    else
        pass "$name"
    fi
}

# Print the error line the CLI shows for a service error.
cli_error() {
    local code=$1 operation=$2 message=$3
    printf 'An error occurred (%s) when calling the %s operation: %s' "$code" "$operation" "$message"
}

mint_token() {
    "$HARNESS" token --endpoint "$ENDPOINT" --cluster "$CLUSTER_NAME" --namespace default "$@"
}

assume_role() {
    run_aws sts assume-role-with-web-identity --role-arn "$ROLE_ARN" "$@"
}

list_provider_arns() {
    run_aws iam list-open-id-connect-providers --query "OpenIDConnectProviderList[*].Arn" --output text
}

# Print the JSON value at the dotted PATH of the JSON document on stdin, or
# a `<missing PATH>` marker that no expected value equals.
json_get() {
    python3 -c '
import json, sys
try:
    value = json.load(sys.stdin)
    for key in sys.argv[1].split("."):
        value = value[key]
except (ValueError, KeyError, TypeError):
    print(f"<missing {sys.argv[1]}>")
else:
    print(value if isinstance(value, str) else json.dumps(value))
' "$1"
}

# --- The documented IRSA setup -------------------------------------------------

run_aws eks describe-cluster --name "$CLUSTER_NAME" --query cluster.identity.oidc.issuer --output text
check_output "eks describe-cluster prints the issuer URL" "$ISSUER"

cat >"$WORK/trust-ec2.json" <<'EOF'
{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {
                "Service": "ec2.amazonaws.com"
            },
            "Action": "sts:AssumeRole"
        }
    ]
}
EOF
run_aws iam create-role --role-name "$ROLE_NAME" \
    --assume-role-policy-document file://trust-ec2.json --query Role.Arn --output text
check_output "iam create-role prints the role ARN" "$ROLE_ARN"

TOKEN=$(mint_token --service-account my-app)

assume_role --role-session-name demo --web-identity-token "$TOKEN"
check_error "assume-role-with-web-identity without a provider is InvalidIdentityToken" \
    "$(cli_error InvalidIdentityToken AssumeRoleWithWebIdentity \
        "No OpenIDConnect provider found in your account for $ISSUER")"

run_aws iam create-open-id-connect-provider --url "$ISSUER" \
    --client-id-list sts.amazonaws.com --thumbprint-list "$THUMBPRINT"
if [[ $AWS_STATUS -eq 0 ]]; then
    check_equal "iam create-open-id-connect-provider prints the provider ARN" \
        "$PROVIDER_ARN" "$(json_get OpenIDConnectProviderArn <<<"$AWS_OUT")"
else
    fail "iam create-open-id-connect-provider prints the provider ARN" \
        "aws exited with $AWS_STATUS" "stderr: $AWS_ERR"
fi

list_provider_arns
check_output "iam list-open-id-connect-providers lists the provider" "$PROVIDER_ARN"

# The provider exists now, but the role still trusts only EC2.
assume_role --role-session-name demo --web-identity-token "$TOKEN"
check_error "assume-role-with-web-identity before the trust policy edit is AccessDenied" \
    "$(cli_error AccessDenied AssumeRoleWithWebIdentity \
        "Not authorized to perform sts:AssumeRoleWithWebIdentity")"

run_aws iam get-role --role-name "$ROLE_NAME" --query Role.AssumeRolePolicyDocument --output json
printf '%s\n' "$AWS_OUT" >trust-policy.json
if [[ $AWS_STATUS -ne 0 ]]; then
    fail "iam get-role returns the trust policy as created" "aws exited with $AWS_STATUS" "stderr: $AWS_ERR"
elif python3 -c '
import json, sys
with open(sys.argv[1]) as sent, open(sys.argv[2]) as returned:
    sys.exit(0 if json.load(sent) == json.load(returned) else 1)
' trust-ec2.json trust-policy.json; then
    pass "iam get-role returns the trust policy as created"
else
    fail "iam get-role returns the trust policy as created" "returned: $AWS_OUT"
fi

# Add the statement that trusts the cluster's service account, as the EKS
# documentation does by editing trust-policy.json.
python3 - "$PROVIDER_ARN" "$ISSUER_HOST_PATH" "$SUBJECT" <<'EOF'
import json, sys

provider_arn, issuer_host_path, subject = sys.argv[1:]
with open("trust-policy.json") as f:
    policy = json.load(f)
policy["Statement"].append({
    "Effect": "Allow",
    "Principal": {"Federated": provider_arn},
    "Action": "sts:AssumeRoleWithWebIdentity",
    "Condition": {
        "StringEquals": {
            f"{issuer_host_path}:sub": subject,
            f"{issuer_host_path}:aud": "sts.amazonaws.com",
        }
    },
})
with open("trust-policy.json", "w") as f:
    json.dump(policy, f, indent=4)
EOF

run_aws iam update-assume-role-policy --role-name "$ROLE_NAME" --policy-document file://trust-policy.json
check_output "iam update-assume-role-policy succeeds with no output" ""

assume_role --role-session-name demo --web-identity-token "$TOKEN" \
    --query AssumedRoleUser.Arn --output text
check_output "assume-role-with-web-identity returns the assumed-role ARN" \
    "arn:aws:sts::$ACCOUNT:assumed-role/$ROLE_NAME/demo"

assume_role --role-session-name demo --web-identity-token "$TOKEN" --output json
if [[ $AWS_STATUS -ne 0 ]]; then
    fail "assume-role-with-web-identity returns the full result" \
        "aws exited with $AWS_STATUS" "stderr: $AWS_ERR"
else
    RESULT=$AWS_OUT
    ACCESS_KEY_ID=$(json_get Credentials.AccessKeyId <<<"$RESULT")
    if [[ $ACCESS_KEY_ID =~ ^ASIA[A-Z0-9]{16}$ ]]; then
        pass "Credentials.AccessKeyId is ASIA and 16 uppercase alphanumerics"
    else
        fail "Credentials.AccessKeyId is ASIA and 16 uppercase alphanumerics" "actual: $ACCESS_KEY_ID"
    fi
    check_equal "SubjectFromWebIdentityToken is the service account" \
        "$SUBJECT" "$(json_get SubjectFromWebIdentityToken <<<"$RESULT")"
    check_equal "Audience is sts.amazonaws.com" \
        "sts.amazonaws.com" "$(json_get Audience <<<"$RESULT")"
    check_equal "Provider is the provider ARN" \
        "$PROVIDER_ARN" "$(json_get Provider <<<"$RESULT")"
    ROLE_ID=$(json_get AssumedRoleUser.AssumedRoleId <<<"$RESULT")
    if [[ $ROLE_ID =~ ^AROA[A-Z0-9]{17}:demo$ ]]; then
        pass "AssumedRoleUser.AssumedRoleId is the role id and the session name"
    else
        fail "AssumedRoleUser.AssumedRoleId is the role id and the session name" "actual: $ROLE_ID"
    fi

    # The issued credentials sign a GetCallerIdentity that the harness
    # verifies; the CLI signs with SigV4 as it would against AWS.
    if AWS_ACCESS_KEY_ID=$ACCESS_KEY_ID \
        AWS_SECRET_ACCESS_KEY=$(json_get Credentials.SecretAccessKey <<<"$RESULT") \
        AWS_SESSION_TOKEN=$(json_get Credentials.SessionToken <<<"$RESULT") \
        aws --endpoint-url "$ENDPOINT" sts get-caller-identity --query Arn --output text \
        >"$WORK/aws.stdout" 2>"$WORK/aws.stderr" </dev/null; then
        AWS_STATUS=0
    else
        AWS_STATUS=$?
    fi
    AWS_OUT=$(cat "$WORK/aws.stdout")
    AWS_ERR=$(cat "$WORK/aws.stderr")
    check_output "get-caller-identity with the issued credentials prints the assumed-role ARN" \
        "arn:aws:sts::$ACCOUNT:assumed-role/$ROLE_NAME/demo"
fi

# --- Rejected web identity requests -------------------------------------------

TOKEN_WRONG_AUDIENCE=$(mint_token --service-account my-app --audience sts.amazon.com)
assume_role --role-session-name demo --web-identity-token "$TOKEN_WRONG_AUDIENCE"
check_error "token for another audience is InvalidIdentityToken" \
    "$(cli_error InvalidIdentityToken AssumeRoleWithWebIdentity "Incorrect token audience")"

TOKEN_OTHER_SERVICE_ACCOUNT=$(mint_token --service-account other)
assume_role --role-session-name demo --web-identity-token "$TOKEN_OTHER_SERVICE_ACCOUNT"
check_error "token of another service account is AccessDenied" \
    "$(cli_error AccessDenied AssumeRoleWithWebIdentity \
        "Not authorized to perform sts:AssumeRoleWithWebIdentity")"

TOKEN_EXPIRED=$(mint_token --service-account my-app --expires-in -60)
assume_role --role-session-name demo --web-identity-token "$TOKEN_EXPIRED"
check_error_pattern "expired token is ExpiredTokenException" \
    "$(cli_error ExpiredTokenException AssumeRoleWithWebIdentity "Token expired: current date/time ")" \
    'Token expired: current date/time [0-9]+ must be before the expiration date/time [0-9]+$'

assume_role --role-session-name 'dependabot[bot]' --web-identity-token "$TOKEN"
check_error "session name outside the pattern is ValidationError" \
    "$(cli_error ValidationError AssumeRoleWithWebIdentity \
        "1 validation error detected: Value 'dependabot[bot]' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*")"

assume_role --role-session-name demo --web-identity-token "$TOKEN" --duration-seconds 7200
check_error "duration above MaxSessionDuration is ValidationError" \
    "$(cli_error ValidationError AssumeRoleWithWebIdentity \
        "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")"

# --- IAM provider errors -------------------------------------------------------

readonly SHORT_THUMBPRINT=9e99a48a9960b14926bb7f3b02e22da2b0
readonly OTHER_ISSUER=https://oidc.eks.$REGION.amazonaws.com/id/EXAMPLED539D4633E53DE1B716D3041E

# botocore checks the model's minimum length and rejects the request before
# sending it.
run_aws iam create-open-id-connect-provider --url "$OTHER_ISSUER" \
    --client-id-list sts.amazonaws.com --thumbprint-list "$SHORT_THUMBPRINT"
EXPECTED_VALIDATION="Invalid length for parameter ThumbprintList[0], value: ${#SHORT_THUMBPRINT}, valid min length: 40"
if [[ $AWS_STATUS -eq 0 ]]; then
    fail "CLI rejects a ${#SHORT_THUMBPRINT}-character thumbprint before sending" "aws exited with 0" "stdout: $AWS_OUT"
elif ! grep -qF "$EXPECTED_VALIDATION" <<<"$AWS_ERR"; then
    fail "CLI rejects a ${#SHORT_THUMBPRINT}-character thumbprint before sending" \
        "exit status $AWS_STATUS" "expected stderr to contain: $EXPECTED_VALIDATION" "stderr: $AWS_ERR"
else
    pass "CLI rejects a ${#SHORT_THUMBPRINT}-character thumbprint before sending"
fi

list_provider_arns
check_output "rejected CLI request created no provider" "$PROVIDER_ARN"

# The same request sent raw, unsigned, as a form POST that no client validated.
HTTP_STATUS=$(curl -sS --noproxy '*' --max-time 10 -o "$WORK/raw.xml" -w '%{http_code}' \
    --data-urlencode Action=CreateOpenIDConnectProvider \
    --data-urlencode Version=2010-05-08 \
    --data-urlencode "Url=$OTHER_ISSUER" \
    --data-urlencode ClientIDList.member.1=sts.amazonaws.com \
    --data-urlencode "ThumbprintList.member.1=$SHORT_THUMBPRINT" \
    "$ENDPOINT/" || true)
check_equal "raw CreateOpenIDConnectProvider with a short thumbprint is HTTP 400" "400" "$HTTP_STATUS"
# Print "Code: Message" of the IAM ErrorResponse, matching elements by local
# name so that the XML namespace does not matter.
RAW_ERROR=$(python3 -c '
import sys
import xml.etree.ElementTree as ET
fields = {}
for element in ET.parse(sys.argv[1]).getroot().iter():
    fields.setdefault(element.tag.rsplit("}", 1)[-1], element.text)
print(fields.get("Code"), fields.get("Message"), sep=": ")
' "$WORK/raw.xml" 2>&1 || true)
check_equal "raw CreateOpenIDConnectProvider with a short thumbprint is ValidationError" \
    "ValidationError: 1 validation error detected: Value at 'thumbprintList' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 40, Member must have length greater than or equal to 40]" \
    "$RAW_ERROR"

list_provider_arns
check_output "rejected raw request created no provider" "$PROVIDER_ARN"

readonly MISSING_PROVIDER_ARN="arn:aws:iam::$ACCOUNT:oidc-provider/oidc.eks.$REGION.amazonaws.com/id/00000000000000000000000000000000"
run_aws iam delete-open-id-connect-provider --open-id-connect-provider-arn "$MISSING_PROVIDER_ARN"
check_error "deleting a missing provider is NoSuchEntity" \
    "$(cli_error NoSuchEntity DeleteOpenIDConnectProvider \
        "OpenId connect Provider $MISSING_PROVIDER_ARN cannot be found.")"

echo "$PASSED passed, $FAILED failed"
if [[ $FAILED -ne 0 ]]; then
    exit 1
fi
