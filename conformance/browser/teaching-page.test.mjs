// Loads the teaching page in headless Chromium while the harness serves a
// broken workshop scenario, sends a request that fails a check, then fixes
// the trust policy and sends a good one, and checks what a learner sees:
// the failing check is marked, each request arrives without a reload, and
// markup inside a token claim stays text. Screenshots go to a directory
// printed at the start.
//
// Usage: node --test teaching-page.test.mjs
//   HARNESS_BIN   the oidc-sts-harness binary (default ../../target/debug/oidc-sts-harness)
//   CHROMIUM      the browser (default /usr/bin/chromium); a missing one fails the test
//   SCREENSHOT_DIR  where screenshots go (default a new temporary directory)

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const binary = process.env.HARNESS_BIN ?? path.join(root, 'target', 'debug', 'oidc-sts-harness');
const browserPath = process.env.CHROMIUM ?? '/usr/bin/chromium';
const scenario = path.join(root, 'scenarios', 'workshop', '05-subject-condition.yaml');
const shots = process.env.SCREENSHOT_DIR ?? mkdtempSync(path.join(tmpdir(), 'teaching-page-'));
mkdirSync(shots, { recursive: true });
console.log(`screenshots: ${shots}`);

const account = '111122223333';
const issuerPath = 'oidc.eks.eu-west-1.amazonaws.com/id/7D2E4F6A8B0C1D2E3F4A5B5E1F0A9C3B';
const roleArn = `arn:aws:iam::${account}:role/cart-reader`;
// A namespace that would run code if the page inserted it as markup.
const hostile = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>';

let server;
let endpoint;
let browser;

function startHarness() {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, ['serve', '--scenario', scenario, '--listen', '127.0.0.1:0'], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, RUST_LOG: 'warn' },
    });
    let out = '';
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`serve exited with ${code} before listening`)));
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const match = out.match(/listening on (http:\/\/[0-9.:]+)/);
      if (match) resolve({ child, url: match[1] });
    });
  });
}

async function form(params) {
  const response = await fetch(`${endpoint}/`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(params),
  });
  return { status: response.status, body: await response.text() };
}

async function token(namespace, serviceAccount) {
  const response = await fetch(`${endpoint}/_harness/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ cluster: 'shop', namespace, service_account: serviceAccount }),
  });
  assert.equal(response.status, 200, await response.clone().text());
  return (await response.json()).token;
}

function assume(webIdentityToken) {
  return form({
    Action: 'AssumeRoleWithWebIdentity',
    Version: '2011-06-15',
    RoleArn: roleArn,
    RoleSessionName: 'browser-test',
    WebIdentityToken: webIdentityToken,
  });
}

before(async () => {
  assert.ok(existsSync(binary), `no harness binary at ${binary}: run cargo build first`);
  assert.ok(existsSync(browserPath), `no browser at ${browserPath}: apt-get install -y chromium`);
  const started = await startHarness();
  server = started.child;
  endpoint = started.url;
  // A fresh, empty profile each run; playwright passes it as --user-data-dir.
  const profile = mkdtempSync(path.join(tmpdir(), 'chromium-profile-'));
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: browserPath,
    viewport: { width: 1400, height: 1000 },
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
});

after(async () => {
  await browser?.close();
  server?.removeAllListeners('exit');
  server?.kill('SIGTERM');
});

test('the teaching page shows the failing check live and escapes claims', async () => {
  const page = await browser.newPage();
  await page.goto(`${endpoint}/_harness/`);
  await page.locator('#live', { hasText: 'connected' }).waitFor();
  assert.equal(await page.locator('#no-requests').count(), 1);
  // Marks this document: a reload would lose the mark.
  await page.evaluate(() => { window.__sameDocument = true; });

  // A token for a service account the trust policy does not allow.
  const broken = await assume(await token(hostile, 'cart'));
  assert.equal(broken.status, 403, broken.body);
  const failed = page.locator('article.req.failed').first();
  await failed.waitFor();
  const failing = failed.locator('ol.chain li.failed');
  assert.equal(await failing.count(), 1);
  assert.equal(await failing.getAttribute('data-check'), 'trust-policy');
  assert.match(await failed.locator('.failure').innerText(), /Fix: /);
  assert.match(await failed.innerText(), /AccessDenied 403/);
  // The claim is shown as text, and nothing in it ran.
  assert.ok((await failed.locator('section.claims').innerText()).includes(`system:serviceaccount:${hostile}:cart`));
  assert.equal(await page.evaluate(() => window.__pwned), undefined);
  assert.equal(await page.locator('script').count(), 1);
  assert.equal(await page.locator('section.claims img').count(), 0);
  await page.locator('section.claims tr.miss', { hasText: 'sub' }).waitFor();
  await failed.screenshot({ path: path.join(shots, 'failing-check.png') });

  // The fix, as a learner sends it, then a good token.
  const policy = JSON.stringify({
    Version: '2012-10-17',
    Statement: [{
      Effect: 'Allow',
      Principal: { Federated: `arn:aws:iam::${account}:oidc-provider/${issuerPath}` },
      Action: 'sts:AssumeRoleWithWebIdentity',
      Condition: { StringEquals: {
        [`${issuerPath}:sub`]: 'system:serviceaccount:shop:cart',
        [`${issuerPath}:aud`]: 'sts.amazonaws.com',
      } },
    }],
  });
  const fixed = await form({
    Action: 'UpdateAssumeRolePolicy', Version: '2010-05-08', RoleName: 'cart-reader', PolicyDocument: policy,
  });
  assert.equal(fixed.status, 200, fixed.body);
  await page.locator('article.req', { hasText: 'IAM UpdateAssumeRolePolicy' }).waitFor();
  // The world section shows the new policy without a reload.
  await page.locator('#world pre', { hasText: 'system:serviceaccount:shop:cart"' }).first().waitFor({ state: 'attached' });

  const good = await assume(await token('shop', 'cart'));
  assert.equal(good.status, 200, good.body);
  const allowed = page.locator('article.req:not(.failed)', { hasText: 'AssumeRoleWithWebIdentity' }).first();
  await allowed.waitFor();
  assert.equal(await allowed.locator('ol.chain li.passed').count(), 9);
  assert.match(await allowed.innerText(), /OK 200/);
  assert.equal(await page.locator('article.req').count(), 3);
  assert.equal(await page.evaluate(() => window.__sameDocument), true, 'the page reloaded');
  await page.screenshot({ path: path.join(shots, 'page.png'), fullPage: true });

  // A fresh load lists all three from the server's own HTML.
  await page.reload();
  assert.equal(await page.locator('article.req').count(), 3);
  await page.close();
});
