#!/usr/bin/env python3
"""Run boto3 inside `oidc-sts-harness exec` for each pod of the fixtures and
assert which credentials its default chain picks, or the exact error.

Usage: python3 conformance/boto3_exec.py path/to/oidc-sts-harness

The same file is the program exec runs (`--probe`): it calls
GetCallerIdentity with the default credential chain, or with instance
metadata only (`--probe --imds-only`), and prints one JSON line.
"""

import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PODS = os.path.join(HERE, "fixtures", "pods.yaml")
NO_PROVIDER = os.path.join(HERE, "fixtures", "no-provider.yaml")
ACCOUNT = "210987654321"
NODE_ARN = f"arn:aws:sts::{ACCOUNT}:assumed-role/eks-nodes-role/i-80b106213388c2458"


def probe(imds_only):
    import boto3
    import botocore.credentials
    import botocore.session
    from botocore.exceptions import ClientError

    core = botocore.session.Session()
    if imds_only:
        # An SDK that predates web identity ends its chain at instance
        # metadata, so it never reads the injected variables.
        fetcher = botocore.utils.InstanceMetadataFetcher(
            timeout=2, num_attempts=1,
            config={"ec2_metadata_service_endpoint": os.environ["AWS_EC2_METADATA_SERVICE_ENDPOINT"]},
        )
        provider = botocore.credentials.InstanceMetadataProvider(iam_role_fetcher=fetcher)
        core.register_component(
            "credential_provider", botocore.credentials.CredentialResolver([provider])
        )
    session = boto3.Session(botocore_session=core)
    result = {}
    try:
        identity = session.client("sts").get_caller_identity()
        result["arn"] = identity["Arn"]
        result["method"] = session.get_credentials().method
    except ClientError as error:
        result["error"] = {
            "code": error.response["Error"]["Code"],
            "message": error.response["Error"]["Message"],
            "operation": error.operation_name,
        }
    except Exception as error:  # the chain's own failures, e.g. a missing file
        result["error"] = {"type": type(error).__name__, "message": str(error)}
    print(json.dumps(result))


def run_in_pod(harness, scenario, pod, *extra):
    command = [harness, "exec", "--scenario", scenario, "--pod", pod, "--",
               sys.executable, os.path.abspath(__file__), "--probe", *extra]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    lines = done.stdout.strip().splitlines()
    try:
        return json.loads(lines[-1]), done
    except (IndexError, ValueError):
        return None, done


def main():
    if len(sys.argv) >= 2 and sys.argv[1] == "--probe":
        probe("--imds-only" in sys.argv[2:])
        return 0
    if len(sys.argv) != 2:
        print(f"usage: {sys.argv[0]} path/to/oidc-sts-harness", file=sys.stderr)
        return 2
    harness = os.path.abspath(sys.argv[1])
    import boto3
    import botocore
    print(f"# boto3 {boto3.__version__}, botocore {botocore.__version__}, Python {sys.version.split()[0]}")

    role_prefix = f"arn:aws:sts::{ACCOUNT}:assumed-role/my-app/botocore-session-"
    checks = [
        ("web identity from the injected env", PODS, "default/my-pod", (),
         lambda r: r.get("method") == "assume-role-with-web-identity"
         and r.get("arn", "").startswith(role_prefix)),
        ("pod without the injected env uses the node role", PODS, "ops/secrets-sync", (),
         lambda r: r == {"arn": NODE_ARN, "method": "iam-role"}),
        ("a chain of instance metadata only ignores web identity", PODS, "default/my-pod",
         ("--imds-only",), lambda r: r == {"arn": NODE_ARN, "method": "iam-role"}),
        ("service account the role does not trust", PODS, "default/other-sa", (),
         lambda r: r.get("error") == {
             "code": "AccessDenied",
             "message": "Not authorized to perform sts:AssumeRoleWithWebIdentity",
             "operation": "AssumeRoleWithWebIdentity"}),
        ("token audience the provider does not list", PODS, "default/wrong-audience", (),
         lambda r: r.get("error") == {
             "code": "InvalidIdentityToken",
             "message": "Incorrect token audience",
             "operation": "AssumeRoleWithWebIdentity"}),
        ("issuer without an IAM OIDC provider", NO_PROVIDER, "default/my-pod", (),
         lambda r: r.get("error") == {
             "code": "InvalidIdentityToken",
             "message": "No OpenIDConnect provider found in your account for "
             "https://oidc.eks.us-west-2.amazonaws.com/id/5E1C0A3B7D9F24688642F0B2D4E6A8C1",
             "operation": "AssumeRoleWithWebIdentity"}),
        ("token path the pod does not mount", PODS, "default/missing-token", (),
         lambda r: r.get("error") == {
             "type": "FileNotFoundError",
             "message": "[Errno 2] No such file or directory: "
             "'/var/run/secrets/eks.amazonaws.com/serviceaccount/token'"}),
    ]
    failed = 0
    for name, scenario, pod, extra, check in checks:
        result, done = run_in_pod(harness, scenario, pod, *extra)
        if result is not None and check(result):
            print(f"ok - {name}")
            continue
        failed += 1
        print(f"not ok - {name}")
        print(f"#   result: {json.dumps(result)}")
        for line in done.stderr.strip().splitlines()[-10:]:
            print(f"#   stderr: {line}")
    print(f"{len(checks) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
