// Run the AWS SDK for JavaScript v3 inside `oidc-sts-harness exec` for each
// pod of the fixtures and assert the caller identity or the exact error.
//
// Usage: JS_SDK_DIR=DIR node conformance/js/exec.mjs path/to/oidc-sts-harness
//
// DIR contains node_modules with @aws-sdk/client-sts and
// @aws-sdk/credential-providers. The same file is the program exec runs
// (`--probe CHAIN`), where CHAIN is `node` (fromNodeProviderChain) or
// `token-file` (fromTokenFile); it prints one JSON line.
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const pods = path.join(here, "..", "fixtures", "pods.yaml");
const noProvider = path.join(here, "..", "fixtures", "no-provider.yaml");
const account = "210987654321";
const nodeArn = `arn:aws:sts::${account}:assumed-role/eks-nodes-role/i-80b106213388c2458`;

function sdk() {
  const dir = process.env.JS_SDK_DIR;
  if (!dir) {
    console.error("error: set JS_SDK_DIR to the folder whose node_modules contains the AWS SDK for JavaScript v3");
    process.exit(2);
  }
  const require = createRequire(path.join(path.resolve(dir), "package.json"));
  return {
    sts: require("@aws-sdk/client-sts"),
    providers: require("@aws-sdk/credential-providers"),
    version: require("@aws-sdk/client-sts/package.json").version,
    providersVersion: require("@aws-sdk/credential-providers/package.json").version,
  };
}

async function probe(chain) {
  const { sts, providers } = sdk();
  const credentials =
    chain === "token-file" ? providers.fromTokenFile() : providers.fromNodeProviderChain();
  const client = new sts.STSClient({ credentials });
  try {
    const identity = await client.send(new sts.GetCallerIdentityCommand({}));
    console.log(JSON.stringify({ arn: identity.Arn }));
  } catch (error) {
    console.log(JSON.stringify({ error: { name: error.name, message: error.message } }));
  }
}

function runInPod(harness, scenario, pod, chain) {
  const done = spawnSync(
    harness,
    ["exec", "--scenario", scenario, "--pod", pod, "--",
     process.execPath, fileURLToPath(import.meta.url), "--probe", chain],
    { encoding: "utf8", timeout: 120000 },
  );
  const lines = (done.stdout || "").trim().split("\n");
  try {
    return { result: JSON.parse(lines[lines.length - 1]), done };
  } catch {
    return { result: null, done };
  }
}

async function main() {
  const args = process.argv.slice(2);
  if (args[0] === "--probe") {
    await probe(args[1]);
    return 0;
  }
  if (args.length !== 1) {
    console.error("usage: node conformance/js/exec.mjs path/to/oidc-sts-harness");
    return 2;
  }
  const harness = path.resolve(args[0]);
  const { version, providersVersion } = sdk();
  console.log(`# @aws-sdk/client-sts ${version}, @aws-sdk/credential-providers ${providersVersion}, Node ${process.version}`);

  const rolePrefix = `arn:aws:sts::${account}:assumed-role/my-app/aws-sdk-js-session-`;
  const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
  const checks = [
    ["fromNodeProviderChain picks web identity", pods, "default/my-pod", "node",
      (r) => (r.arn || "").startsWith(rolePrefix)],
    ["fromTokenFile assumes the role", pods, "default/my-pod", "token-file",
      (r) => (r.arn || "").startsWith(rolePrefix)],
    ["pod without the injected env uses the node role", pods, "ops/secrets-sync", "node",
      (r) => same(r, { arn: nodeArn })],
    ["service account the role does not trust", pods, "default/other-sa", "node",
      (r) => same(r.error, { name: "AccessDenied", message: "Not authorized to perform sts:AssumeRoleWithWebIdentity" })],
    ["token audience the provider does not list", pods, "default/wrong-audience", "node",
      (r) => same(r.error, { name: "InvalidIdentityTokenException", message: "Incorrect token audience" })],
    ["issuer without an IAM OIDC provider", noProvider, "default/my-pod", "token-file",
      (r) => same(r.error, {
        name: "InvalidIdentityTokenException",
        message: "No OpenIDConnect provider found in your account for https://oidc.eks.us-west-2.amazonaws.com/id/5E1C0A3B7D9F24688642F0B2D4E6A8C1",
      })],
    ["token path the pod does not mount", pods, "default/missing-token", "node",
      (r) => same(r.error, {
        name: "Error",
        message: "ENOENT: no such file or directory, open '/var/run/secrets/eks.amazonaws.com/serviceaccount/token'",
      })],
  ];
  let failed = 0;
  for (const [name, scenario, pod, chain, check] of checks) {
    const { result, done } = runInPod(harness, scenario, pod, chain);
    if (result !== null && check(result)) {
      console.log(`ok - ${name}`);
      continue;
    }
    failed += 1;
    console.log(`not ok - ${name}`);
    console.log(`#   result: ${JSON.stringify(result)}`);
    for (const line of (done.stderr || "").trim().split("\n").slice(-10)) {
      console.log(`#   stderr: ${line}`);
    }
  }
  console.log(`${checks.length - failed} passed, ${failed} failed`);
  return failed ? 1 : 0;
}

process.exitCode = await main();
