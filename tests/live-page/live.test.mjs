// The admin listener's live page in a real browser: headless Chromium
// (Debian's package, installed by `make test` when missing) driven by
// playwright-core. Starts `friendgate serve` ($FRIENDGATE) on free loopback
// ports, sends signed callbacks, and checks what the page shows and does.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, writeFileSync, readFileSync, mkdirSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const FRIENDGATE = process.env.FRIENDGATE;
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const TOKEN = "xxxxyyyy";
const ADMIN_TOKEN = "live-page-admin-token";
const APP_ID = 1400000000;

function freePort() {
  return new Promise((done) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => done(port));
    });
  });
}

async function startGateway() {
  assert.ok(FRIENDGATE, "FRIENDGATE names the friendgate binary");
  const dir = mkdtempSync(join(tmpdir(), "friendgate-live-"));
  const [port, admin] = [await freePort(), await freePort()];
  writeFileSync(join(dir, "token"), TOKEN + "\n");
  writeFileSync(join(dir, "admin.token"), ADMIN_TOKEN + "\n");
  writeFileSync(join(dir, "blocked.txt"), "mallory\n");
  writeFileSync(join(dir, "friendgate.toml"), `
[server]
listen = "127.0.0.1:${port}"
path = "/callback"

[admin]
listen = "127.0.0.1:${admin}"
token = { file = "admin.token" }

[callback]
app_ids = [${APP_ID}]
tokens = [{ file = "token" }]

[log]
level = "warn"

[[rule]]
name = "blocked"
kind = "accounts"
field = "from"
accounts_file = "blocked.txt"
code = 38001
info = "account is blocked"
`);
  const child = spawn(FRIENDGATE, ["serve", "--config", join(dir, "friendgate.toml")], { stdio: ["ignore", "ignore", "inherit"] });
  const gateway = { child, dir, base: `http://127.0.0.1:${port}`, admin: `http://127.0.0.1:${admin}` };
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`${gateway.admin}/healthz`)).ok) return gateway;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("friendgate did not start");
}

/** POSTs a signed callback from `from` accepting `to`; the item's ResultCode. */
async function request(gateway, from, to, wording) {
  const time = Math.floor(Date.now() / 1000);
  const sign = createHash("sha256").update(TOKEN + time).digest("hex");
  const query = `SdkAppid=${APP_ID}&CallbackCommand=Sns.CallbackPrevFriendAdd&contenttype=json&OptPlatform=Android&RequestTime=${time}&Sign=${sign}`;
  const body = JSON.stringify({
    CallbackCommand: "Sns.CallbackPrevFriendAdd", Requester_Account: from, From_Account: from, EventTime: Date.now(),
    AddType: "Add_Type_Both", ForceAddFlags: 0,
    FriendItem: [{ To_Account: to, Remark: "", GroupName: "", AddSource: "AddSource_Type_Android", AddWording: wording }],
  });
  const answer = await fetch(`${gateway.base}/callback?${query}`, { method: "POST", body, headers: { "Content-Type": "application/json" } });
  assert.equal(answer.status, 200);
  return (await answer.json()).ResultItem[0].ResultCode;
}

async function respond(gateway, from, to) {
  const time = Math.floor(Date.now() / 1000);
  const sign = createHash("sha256").update(TOKEN + time).digest("hex");
  const query = `SdkAppid=${APP_ID}&CallbackCommand=Sns.CallbackPrevFriendResponse&contenttype=json&OptPlatform=Android&RequestTime=${time}&Sign=${sign}`;
  const body = JSON.stringify({
    CallbackCommand: "Sns.CallbackPrevFriendResponse", Requester_Account: to, From_Account: from, EventTime: Date.now(),
    ResponseFriendItem: [{ To_Account: to, Remark: "", TagName: "", ResponseAction: "Response_Action_AgreeAndAdd" }],
  });
  const answer = await fetch(`${gateway.base}/callback?${query}`, { method: "POST", body, headers: { "Content-Type": "application/json" } });
  assert.equal(answer.status, 200);
  return (await answer.json()).ResultItem[0].ResultCode;
}

let gateway;
let browser;
after(async () => {
  await browser?.close();
  gateway?.child.kill("SIGTERM");
});

test("the live page shows callbacks as they come, filters them, and blocks an account", async () => {
  gateway = await startGateway();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
  const page = await browser.newPage();
  await page.goto(`${gateway.admin}/`);

  // The page holds no data: it asks for the admin token first.
  await page.locator("#token-form").waitFor({ state: "visible" });
  await page.fill("#token", ADMIN_TOKEN);
  await page.click("#token-form button");
  await page.waitForFunction(() => document.getElementById("status").textContent === "live");

  assert.equal(await respond(gateway, "alice", "bob"), 0);
  assert.equal(await respond(gateway, "mallory", "bob"), 38001);
  const mallory = page.locator('#events tr[data-from="mallory"]');
  await mallory.waitFor();
  assert.deepEqual(
    (await mallory.locator("td").allTextContents()).slice(1, 8),
    ["response", "mallory", "bob", "AgreeAndAdd", "reject", "blocked", "Android"],
  );
  const alice = page.locator('#events tr[data-from="alice"]');
  assert.equal(await alice.locator("td").nth(5).textContent(), "allow");
  assert.equal(await alice.locator("td").nth(6).textContent(), "default");
  // A friend request shows its greeting; the kind filter tells them apart.
  assert.equal(await request(gateway, "trent", "bob", "hi, add me?"), 0);
  const trent = page.locator('#events tr[data-from="trent"]');
  await trent.waitFor();
  assert.deepEqual((await trent.locator("td").allTextContents()).slice(1, 6), ["request", "trent", "bob", "hi, add me?", "allow"]);
  await page.selectOption("#filter-kind", "friend_request");
  assert.equal(await alice.isHidden(), true);
  assert.equal(await trent.isVisible(), true);
  await page.selectOption("#filter-kind", "friend_response");
  assert.equal(await trent.isHidden(), true);
  assert.equal(await alice.isVisible(), true);
  await page.selectOption("#filter-kind", "");
  await page.locator('#counts tr[data-rule="blocked"]').waitFor();
  assert.deepEqual(await page.locator('#counts tr[data-rule="blocked"] td').allTextContents(), ["blocked", "0", "1"]);
  assert.match(await page.textContent("#latency"), /^p50 [\d.]+ ms, p99 [\d.]+ ms$/);

  // Filters: by account, then by decision.
  await page.fill("#filter-account", "alice");
  assert.equal(await mallory.isHidden(), true);
  assert.equal(await alice.isVisible(), true);
  await page.fill("#filter-account", "");
  await page.selectOption("#filter-decision", "reject");
  assert.equal(await alice.isHidden(), true);
  assert.equal(await mallory.isVisible(), true);
  await page.selectOption("#filter-decision", "");

  // Pause holds new rows back until resumed.
  await page.click("#pause");
  assert.equal(await respond(gateway, "paused", "bob"), 0);
  await page.waitForFunction(() => document.getElementById("seen").textContent === "4");
  assert.equal(await page.locator('#events tr[data-from="paused"]').count(), 0);
  await page.click("#pause");
  await page.locator('#events tr[data-from="paused"]').waitFor();

  // "Block eve" from her event: the next callback from her is rejected.
  assert.equal(await respond(gateway, "eve", "bob"), 0);
  const eve = page.locator('#events tr[data-from="eve"] button.block');
  await eve.click();
  await page.waitForFunction(() => document.querySelector('#events tr[data-from="eve"] button.block').textContent === "Blocked");
  assert.equal(await respond(gateway, "eve", "carol"), 38001);
  assert.match(readFileSync(join(gateway.dir, "blocked.txt"), "utf8"), /^eve$/m);

  mkdirSync(join(ROOT, "target"), { recursive: true });
  await page.screenshot({ path: join(ROOT, "target", "live-page.png"), fullPage: true });
});
