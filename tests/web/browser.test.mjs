// browser.test.mjs: the admin page in a real browser (Debian's chromium,
// headless, driven by playwright-core) against a real loadsd on loopback
// ports with a data directory of its own. Steps: log in, upload a generated
// bundle and see it verified, stage a second load from an upstream (a
// central loadsd) and see its progress and origin, PFS on at enterprise / off in a profile /
// inherit on a device shows "off — from profile", a site rule (the toast says
// what was stored) and the device page showing it as the phone gets it over
// TFTP (screenshots device-site-rule-*.png), trusting a certificate twice, the
// audit diff, a CSV import with one bad line shows that line's error, 500
// devices selected by a search given a load in one job (screenshots
// devices-bulk-*), a partial CSV import and its rejected-rows file, a branch
// added (its token once) and its report's holdings (branches-added-*,
// branch-holdings-*) and a device's page saying whether its branch is named
// (device-branch-gate-*), a phone that fetched its config and whole load
// over TFTP shown on target on the Fleet page and the dashboard (fleet-*), a
// phone its branch's gate sends to the central shown with the reason on both
// and its link listing it (fleet-dashboard-*, fleet-gated-devices-*), log out; then the main pages at phone size
// without horizontal scrolling. Screenshots go to tests/web/artifacts/.
// Touches nothing outside its temp dir and the artifacts directory.

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {spawn, execFileSync} from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import dgram from 'node:dgram';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {chromium} from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const srcdir = path.resolve(process.env.top_srcdir || path.join(here, '..', '..'));
const builddir = path.resolve(process.env.top_builddir || srcdir);
const LOADSD = process.env.LOADSD || path.join(builddir, 'server', 'loadsd');
const LOADSCTL = process.env.LOADSCTL || path.join(builddir, 'admin', 'loadsctl');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const ARTIFACTS = process.env.WEB_ARTIFACTS || path.join(here, 'artifacts');
const PASSWORD = 'browser-test-password';
const MAC = '0011223344AA';
const LOAD = 'SIP41.9-4-2SR3-1S';
const WIDE = {width: 1366, height: 768};
const PHONE = {width: 390, height: 844};
// Generous: the test checks what the page does, not how fast (benchmarks
// do that); on a loaded CI machine the nice-19 admin threads answer slowly.
const TIMEOUT = 90000;

let tmp;
let daemon;
let daemonLog = '';
let central;
let centralLog = '';
const LOAD2 = 'SIP45.9-4-2SR3-1S'; // at the central only: staged from the page
let base;
let tftpPort;
let context;
let page;
let bundle;
let shotNo = 0;
const pageErrors = [];

function ctl(...args) {
  return execFileSync(LOADSCTL, ['--data-dir', path.join(tmp, 'data'), ...args],
    {encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], input: args.includes('--password-stdin') ? `${PASSWORD}\n` : undefined});
}

function freeTcpPort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const {port} = s.address();
      s.close(() => resolve(port));
    });
  });
}

function freeUdpPort() {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => {
      const {port} = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function waitHttp(url, ms) {
  const end = Date.now() + ms;
  for (;;) {
    try {
      const r = await fetch(url);
      await r.arrayBuffer();
      return;
    } catch (e) {
      if (Date.now() > end) throw new Error(`loadsd does not answer on ${url}:\n${daemonLog}`);
      if (daemon.exitCode !== null) throw new Error(`loadsd exited (${daemon.exitCode}):\n${daemonLog}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

async function shot(name, p = page) {
  shotNo += 1;
  const file = path.join(ARTIFACTS, `${String(shotNo).padStart(2, '0')}-${name}.png`);
  await p.screenshot({path: file, fullPage: true});
  return file;
}

// Follows a link of the main navigation.
async function nav(p, name) {
  await p.locator('#nav').getByRole('link', {name, exact: true}).click();
}

before(async () => {
  for (const f of [LOADSD, LOADSCTL, CHROMIUM]) assert.ok(fs.existsSync(f), `${f} is missing`);
  fs.mkdirSync(ARTIFACTS, {recursive: true});
  for (const f of fs.readdirSync(ARTIFACTS)) if (f.endsWith('.png')) fs.rmSync(path.join(ARTIFACTS, f));
  tmp = fs.mkdtempSync(path.join(process.env.TMPDIR || os.tmpdir(), 'loadsd-web-'));
  fs.mkdirSync(path.join(tmp, 'serve'));

  // Keys, a signed bundle, the vendor certificate trusted, an admin user.
  const mk = path.join(srcdir, 'tests', 'tools', 'mkbundle.py');
  execFileSync('python3', [mk, 'keys', path.join(tmp, 'keys')], {stdio: 'pipe'});
  bundle = path.join(tmp, 'bundle.zip');
  execFileSync('python3', [mk, 'bundle', '--keys', path.join(tmp, 'keys'), '--out', bundle,
    '--format', 'zip', '--load', LOAD, '--components', '5', '--size-kb', '1024',
    '--component-headers', 'all'], {stdio: 'pipe'});
  ctl('user', 'add', 'admin', '--role', 'admin', '--password-stdin');
  ctl('trust', 'add', path.join(tmp, 'keys', 'vendor.pem'));

  // A central loadsd (its file service only) holding LOAD2: this loadsd's
  // upstream, for the stage card. Its rate cap makes the progress visible.
  const cdata = path.join(tmp, 'central');
  const bundle2 = path.join(tmp, 'bundle2.zip');
  execFileSync('python3', [mk, 'bundle', '--keys', path.join(tmp, 'keys'), '--out', bundle2,
    '--format', 'zip', '--load', LOAD2, '--components', '4', '--size-kb', '512', '--seed', '2',
    '--component-headers', 'all'], {stdio: 'pipe'});
  execFileSync(LOADSCTL, ['--data-dir', cdata, 'init'], {stdio: 'pipe'});
  execFileSync(LOADSCTL, ['--data-dir', cdata, 'trust', 'add', path.join(tmp, 'keys', 'vendor.pem')], {stdio: 'pipe'});
  execFileSync(LOADSCTL, ['--data-dir', cdata, 'import', bundle2], {stdio: 'pipe'});
  const centralPort = await freeTcpPort();
  const centralTftp = await freeUdpPort();
  const cconf = path.join(tmp, 'central.conf');
  fs.writeFileSync(cconf, '# the browser test\'s central\n');
  central = spawn(LOADSD, ['--foreground', '--config', cconf, '--data-dir', cdata,
    '--tftp-listen', `127.0.0.1:${centralTftp}`, '--files-listen', `127.0.0.1:${centralPort}`,
    '--admin-listen', 'none', '--scrub-interval', '0', '--log-level', 'info'],
  {stdio: ['ignore', 'pipe', 'pipe']});
  central.stdout.on('data', (d) => { centralLog += d; });
  central.stderr.on('data', (d) => { centralLog += d; });

  const adminPort = await freeTcpPort();
  tftpPort = await freeUdpPort();
  const conf = path.join(tmp, 'loadsd.conf');
  fs.writeFileSync(conf, `# browser test\nthreads = 2\nupstream = http://127.0.0.1:${centralPort}\nstage-rate = 4000\n`);
  base = `http://127.0.0.1:${adminPort}`;
  daemon = spawn(LOADSD, ['--foreground', '--config', conf, '--data-dir', path.join(tmp, 'data'),
    '--serve-dir', path.join(tmp, 'serve'), '--tftp-listen', `127.0.0.1:${tftpPort}`,
    '--admin-listen', `127.0.0.1:${adminPort}`, '--web-root', path.join(srcdir, 'web'),
    '--files-listen', 'none', // the HTTP file service's fixed default port may be taken
    '--log-level', 'info'], {stdio: ['ignore', 'pipe', 'pipe']});
  daemon.stdout.on('data', (d) => { daemonLog += d; });
  daemon.stderr.on('data', (d) => { daemonLog += d; });
  await waitHttp(`${base}/`, 15000);

  // A fresh profile (--user-data-dir) in the temp dir: playwright passes it.
  context = await chromium.launchPersistentContext(path.join(tmp, 'chromium-profile'), {
    executablePath: CHROMIUM,
    headless: true,
    viewport: WIDE,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  context.setDefaultTimeout(TIMEOUT);
  page = context.pages()[0] || await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('dialog', (d) => d.dismiss());
});

after(async () => {
  if (context) await context.close().catch(() => {});
  if (daemon && daemon.exitCode === null) {
    daemon.kill('SIGTERM');
    await new Promise((r) => {
      const t = setTimeout(() => { daemon.kill('SIGKILL'); r(); }, 5000);
      daemon.once('exit', () => { clearTimeout(t); r(); });
    });
  }
  if (central && central.exitCode === null) central.kill('SIGTERM');
  fs.writeFileSync(path.join(ARTIFACTS, 'loadsd.log'), daemonLog);
  fs.writeFileSync(path.join(ARTIFACTS, 'central.log'), centralLog);
  if (tmp && !process.env.KEEP_TMPDIR) fs.rmSync(tmp, {recursive: true, force: true});
  else if (tmp) console.log(`kept ${tmp}`);
  if (/ERROR: (Address|Undefined|Leak)Sanitizer|runtime error:/.test(daemonLog)) {
    throw new Error(`sanitizer report in the loadsd log:\n${daemonLog}`);
  }
});

test('log in', async () => {
  await page.goto(`${base}/`);
  await page.getByLabel('User name').fill('admin');
  await page.getByLabel('Password').fill('wrong-password');
  await page.getByLabel('Password').press('Enter'); // Enter submits the form
  await page.getByText('Wrong user name or password.').waitFor();
  await shot('login-refused');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', {name: 'Log in'}).click();
  await page.getByRole('heading', {name: 'Dashboard', exact: true}).waitFor();
  assert.match(await page.locator('#who').textContent(), /admin \(admin\)/);
  await shot('dashboard');
});

test('upload a bundle: progress bar, then the load is verified', async () => {
  await nav(page, 'Loads & upload');
  await page.getByRole('heading', {name: 'Firmware', exact: true}).waitFor();
  await page.locator('#bundle-file').setInputFiles(bundle);
  await page.getByText(/bundle\.zip \(/).waitFor();
  // Watch the upload bar from the page: every value it shows is recorded.
  await page.evaluate(() => {
    window.seenProgress = [];
    new MutationObserver(() => {
      const bar = document.getElementById('upload-progress');
      if (bar && !bar.dataset.watched) {
        bar.dataset.watched = '1';
        window.seenProgress.push(bar.value);
        new MutationObserver(() => window.seenProgress.push(bar.value))
          .observe(bar, {attributes: true, attributeFilter: ['value']});
      }
    }).observe(document.body, {childList: true, subtree: true});
  });
  await page.getByRole('button', {name: 'Upload and import'}).click();
  const bar = page.locator('#upload-progress');
  await bar.waitFor({state: 'visible'});
  await shot('upload-progress');
  await page.locator('#upload-result').getByText('Import finished.').waitFor({timeout: 2 * TIMEOUT});
  assert.equal(await bar.evaluate((b) => b.value), 100);
  const seen = await page.evaluate(() => window.seenProgress);
  assert.ok(seen.length >= 1 && seen.includes(100), `upload bar values: ${seen}`);
  const imp = page.locator('#import-progress');
  assert.equal(await imp.evaluate((b) => b.value), 100);
  const row = page.locator('#upload-result tr', {hasText: LOAD});
  await row.getByText('verified').waitFor();
  await shot('upload-done');
  // The loads table shows it verified, and its page lists the files.
  const loadRow = page.locator('tr', {has: page.getByRole('link', {name: LOAD})}).last();
  await loadRow.getByText('verified').waitFor();
  await page.getByRole('link', {name: LOAD}).last().click();
  await page.getByRole('heading', {name: LOAD, exact: true}).waitFor();
  await page.getByText('jar41sip.9-4-2ES26.sbn').waitFor();
  await page.getByRole('button', {name: 'Verify now'}).click();
  await page.getByText(/file\(s\) checked, \d+ match, 0 newly quarantined/).waitFor();
  await shot('load-detail');
});

test('stage a load from the upstream: progress, then in the catalog, pulled from the central', async () => {
  await nav(page, 'Loads & upload');
  const card = page.locator('#stage-card');
  await card.getByText(/from http:\/\/127\.0\.0\.1:\d+\/?, at most 4000 kbit\/s/).waitFor();
  await page.locator('#stage-load').fill(LOAD2);
  await page.locator('#stage-submit').click();
  await card.getByText(new RegExp(`Staging ${LOAD2.replaceAll('.', '\\.')}: (queued|running)`)).waitFor();
  // 2 MB at 4000 kbit/s: about 4 s running, with files, bytes and a rate.
  const row = card.locator('tbody tr', {hasText: LOAD2});
  await row.filter({hasText: /running/}).waitFor();
  await shot('stage-running');
  await row.filter({hasText: /done/}).waitFor();
  assert.match(await row.textContent(), /5\/5/);
  const loads = page.locator('table', {has: page.locator('caption', {hasText: /^Loads$/})});
  const loadRow = loads.locator('tbody tr', {hasText: LOAD2});
  await loadRow.waitFor();
  assert.match(await loadRow.textContent(), /verified/);
  assert.match(await loadRow.textContent(), /pulled from http:\/\/127\.0\.0\.1:\d+/);
  assert.match(await loads.locator('tbody tr', {hasText: LOAD}).textContent(), /bundle bundle\.zip/);
  await shot('stage-done');
});

test('PFS on at enterprise, off in a profile, inherit on a device: "off — from profile"', async () => {
  await nav(page, 'Enterprise');
  await page.getByLabel('Peer firmware sharing (PFS)').selectOption('on');
  await page.getByRole('button', {name: 'Save enterprise settings'}).click();
  await page.locator('#enterprise-form').getByText('Saved.').waitFor();
  await shot('enterprise');

  await nav(page, 'Phone profiles');
  await page.getByLabel('New profile').fill('branch');
  await page.getByLabel('New profile').press('Enter');
  const prof = page.locator('form.profile-form[data-profile="branch"]');
  await prof.waitFor();
  await prof.getByLabel('Peer firmware sharing').selectOption('off');
  await prof.getByRole('button', {name: 'Save'}).click();
  await page.getByText('Profile branch saved').waitFor();
  await shot('profile');

  await nav(page, 'Devices');
  await page.getByText('Add a device').click();
  await page.locator('#dev-mac').fill(MAC);
  await page.locator('#dev-model').selectOption('Cisco 7961');
  await page.locator('#dev-profile').selectOption('branch');
  await page.locator('#dev-desc').fill('Reception <b>desk</b>');
  await page.getByRole('button', {name: 'Add device'}).click();
  await page.getByRole('heading', {name: MAC, exact: true}).waitFor();
  // The device's own PFS is inherit, explicitly saved as such.
  await page.locator('#edit-pfs').selectOption('inherit');
  await page.locator('#device-edit').getByRole('button', {name: 'Save device'}).click();
  await page.locator('#device-edit').getByText('Saved.').waitFor();
  const pfs = page.locator('#effective dd[data-setting="Peer firmware sharing"]');
  await pfs.getByText('off — from profile').waitFor();
  // The description was shown as text, not markup.
  await page.getByText('Reception <b>desk</b>').first().waitFor();
  assert.equal(await page.locator('main b', {hasText: 'desk'}).count(), 0);
  await page.locator('pre.code').getByText(/peerFirmwareSharing/).waitFor();
  await shot('device-effective');
  // Its protocol: the model's by default; a 7961 may run SCCP, an 8845 only SIP.
  const proto = page.locator('#edit-protocol');
  assert.deepEqual(await proto.locator('option').allTextContents(), ["the model's (SIP)", 'SIP', 'SCCP']);
  await proto.selectOption('SCCP');
  await page.locator('#device-edit').getByRole('button', {name: 'Save device'}).click();
  await page.locator('#device-edit').getByText('Saved.').waitFor();
  assert.equal(JSON.parse(ctl('--json', 'device', 'show', MAC)).protocol, 'SCCP');
  await page.locator('#edit-model').selectOption('Cisco 8845');
  assert.deepEqual(await proto.locator('option').allTextContents(), ["the model's (SIP)", 'SIP']);
  assert.equal(await proto.inputValue(), '', 'a protocol the new model does not run falls back to the model\'s');
  await page.locator('#edit-model').selectOption('Cisco 7961');
  await proto.selectOption('');
  await page.locator('#device-edit').getByRole('button', {name: 'Save device'}).click();
  await page.locator('#device-edit').getByText('Saved.').waitFor();
  assert.equal(JSON.parse(ctl('--json', 'device', 'show', MAC)).protocol, null);
});

test('device default: model → load from the catalog, seen on the device and the load', async () => {
  await nav(page, 'Device defaults');
  const form = page.getByRole('form', {name: 'Default load for Cisco 7961', exact: true});
  await form.getByRole('combobox').selectOption(LOAD);
  await form.getByRole('button', {name: 'Save'}).click();
  await page.getByText(`Cisco 7961: default load ${LOAD}`).waitFor();
  await shot('device-defaults');
  await page.goto(`${base}/#/devices/${MAC}`);
  await page.locator('#effective dd[data-setting="Load"]').getByText(`${LOAD} — from model default`).waitFor();
  await page.goto(`${base}/#/loads/${LOAD}`);
  await page.getByRole('heading', {name: LOAD, exact: true}).waitFor();
  await page.locator('dd', {hasText: 'Cisco 7961'}).waitFor();
});

// What the phone gets over TFTP, asking from 127.0.0.1 (curl's TFTP client).
function tftpGet(name) {
  return execFileSync('curl', ['-sS', '--max-time', '15', `tftp://127.0.0.1:${tftpPort}/${name}`],
    {encoding: 'utf8'});
}

test('a site rule: the toast says what was stored; a bad prefix names its field once', async () => {
  ctl('enterprise', 'set', 'load_server', '10.0.0.5');
  await nav(page, 'Sites');
  await page.locator('#site-cidr').fill('10.20.0.0/33');
  await page.locator('#site-load-server').fill('10.20.0.5');
  await page.getByRole('button', {name: 'Add site rule'}).click();
  const bad = page.locator('.toast', {hasText: 'cidr'}).last();
  await bad.waitFor();
  assert.equal((await bad.textContent()).split('cidr').length - 1, 1, 'the field is named once');
  await page.locator('#site-cidr').fill('127.0.0.77/24');
  await page.locator('#site-load-server').fill('10.9.9.9');
  await page.getByRole('button', {name: 'Add site rule'}).click();
  await page.locator('.toast', {hasText: 'Stored 127.0.0.0/24 → 10.9.9.9 (you entered 127.0.0.77/24'}).waitFor();
  await page.locator('td', {hasText: '127.0.0.0/24'}).waitFor();
});

test('the device page shows what the phone gets: the site rule for its last request\'s address', async () => {
  // loadsd picks a change up within a poll (250 ms): ask again until it has.
  let phone = tftpGet(`SEP${MAC}.cnf.xml`);
  for (let i = 0; i < 40 && !phone.includes('<loadServer>10.9.9.9<'); i++) {
    await new Promise((r) => setTimeout(r, 250));
    phone = tftpGet(`SEP${MAC}.cnf.xml`);
  }
  assert.match(phone, /<loadServer>10\.9\.9\.9<\/loadServer>/, 'the phone at 127.0.0.1 gets the site rule');
  // loadsd writes the request's address within a poll (250 ms), and an
  // unchanged one again every 30 s as the phone keeps asking: reload (and
  // ask again, as a phone does) until shown. A goto to the URL the page is
  // on already changes nothing (same hash: no hashchange, no new render):
  // reload instead.
  const seen = page.locator('#seen-from', {hasText: 'its last request came from 127.0.0.1'});
  await page.goto(`${base}/#/devices/${MAC}`);
  for (const end = Date.now() + TIMEOUT; Date.now() < end;) {
    tftpGet(`SEP${MAC}.cnf.xml`);
    await page.reload();
    await page.locator('#seen-from').waitFor();
    if (await seen.count()) break;
    await page.waitForTimeout(500);
  }
  await seen.waitFor();
  await page.locator('#effective dd[data-setting="Load server"]').getByText('10.9.9.9 — from site').waitFor();
  assert.equal(await page.locator('#site-origin code').textContent(), '127.0.0.0/24');
  assert.equal(await page.locator('#cfg-load-server').textContent(), '10.9.9.9');
  assert.equal(await page.locator('pre.code').textContent(), phone, 'the page renders what TFTP gave');
  // No CUCM address here: the page says so above the XML.
  await page.locator('#config-summary .alert-warn', {hasText: 'no call manager'}).waitFor();
  await page.locator('#device-warnings', {hasText: 'no CUCM address'}).waitFor();
  // The toasts of the steps before would cover the page: the shots show the page.
  await page.evaluate(() => document.querySelectorAll('.toast').forEach((t) => t.remove()));
  fs.copyFileSync(await shot('device-site-rule-1366x768'), path.join(ARTIFACTS, 'device-site-rule-1366x768.png'));
  await page.setViewportSize(PHONE);
  fs.copyFileSync(await shot('device-site-rule-390x844'), path.join(ARTIFACTS, 'device-site-rule-390x844.png'));
  await page.setViewportSize(WIDE);
  // Another address, typed in: outside the rule, the enterprise's server.
  await page.locator('#seen-from-input').fill('10.1.1.1');
  await page.getByRole('button', {name: 'Show', exact: true}).click();
  await page.locator('#seen-from', {hasText: 'a phone at 10.1.1.1'}).waitFor();
  await page.locator('#effective dd[data-setting="Load server"]').getByText('10.0.0.5 — from enterprise').waitFor();
  // The config box follows once its own request is answered.
  await page.locator('#cfg-load-server', {hasText: '10.0.0.5'}).waitFor();
});

test('trusting a trusted certificate again says it is trusted already', async () => {
  await nav(page, 'Trust store');
  await page.locator('#trust-pem').fill(fs.readFileSync(path.join(tmp, 'keys', 'vendor.pem'), 'utf8'));
  for (let i = 0; i < 2; i++) {
    await page.getByRole('button', {name: 'Trust this certificate'}).click();
    await page.locator('#trust-add .alert-warn', {hasText: 'already trusted'}).waitFor();
  }
});

test('the audit log shows changes as a diff, not raw JSON', async () => {
  await nav(page, 'Audit log');
  await page.locator('ul.diff').first().waitFor();
  const raw = await page.locator('main td').evaluateAll((tds) => tds.filter((t) => /^\s*\{"/.test(t.textContent)).length);
  assert.equal(raw, 0, 'no cell shows raw JSON');
  await shot('audit-diff');
});

test('CSV import with one bad line shows that line\'s error', async () => {
  await nav(page, 'Devices');
  await page.getByText('CSV import and export').click();
  const csv = [
    'mac,model,profile,description,load,peer_firmware_sharing,load_server',
    '0011223344B1,Cisco 7961,branch,first,,,',
    'NOT-A-MAC,Cisco 7961,,second,,,',
    '0011223344B3,Cisco 7965,,third,,on,',
  ].join('\n') + '\n';
  await page.locator('#csv-text').fill(csv);
  await page.getByRole('button', {name: 'Import CSV'}).click();
  const err = page.locator('#csv-errors li[data-line="3"]');
  await err.waitFor();
  assert.match(await err.textContent(), /line 3/);
  assert.equal(await page.locator('#csv-errors li').count(), 1, 'exactly the bad line is reported');
  await shot('csv-error');
  // All or nothing: the good lines were not added either.
  await page.locator('#dev-search').fill('0011223344B1');
  await page.locator('#dev-search').press('Enter');
  await page.getByText('No device matches.').waitFor();
});

// ---- devices at fleet scale (issue 16: the devices list and CSV) ----

test('devices: 500 selected by a search get a load in one job, one audit row', async () => {
  const csv = ['mac,model,description'];
  for (let n = 0; n < 500; n++) csv.push(`00CC0000${n.toString(16).toUpperCase().padStart(4, '0')},Cisco 7961,bulk floor ${n}`);
  csv.push('00CC0000FFFF,Cisco 7961,other room');
  const file = path.join(tmp, 'fleet.csv');
  fs.writeFileSync(file, csv.join('\r\n') + '\r\n');
  ctl('devices', 'import', file);
  await page.goto(`${base}/#/dashboard`);
  await page.goto(`${base}/#/devices`);
  await page.locator('#dev-search').fill('bulk floor');
  await page.locator('#dev-search').press('Enter');
  await page.locator('#device-range').getByText('of 500').waitFor({timeout: TIMEOUT});
  await page.locator('#bulk-all').check();
  await page.locator('#bulk-count').getByText('All 500 matching device(s) selected').waitFor();
  await page.locator('#bulk-what').selectOption('load');
  await page.locator('#bulk-load').selectOption(LOAD);
  await page.locator('#bulk-apply').click();
  await page.locator('#bulk-result').getByText('500 device(s) selected, 500 changed').waitFor({timeout: TIMEOUT});
  // The list shows the effective load and where it comes from.
  await page.locator('#device-list').getByText(`${LOAD} — from device`).first().waitFor({timeout: TIMEOUT});
  const listed = JSON.parse(ctl('--json', 'device', 'list', '--search', 'bulk floor', '--load', LOAD));
  assert.equal(listed.length, 500, 'every device of the search has the load');
  const other = JSON.parse(ctl('--json', 'device', 'list', '--search', 'other room'));
  assert.notEqual(other[0].effective.load.level, 'device', 'the device outside the search has no load of its own');
  const audit = await page.evaluate(async () => (await (await fetch('/api/v1/audit?action=device.bulk_set&limit=50')).json()).entries);
  assert.equal(audit.length, 1, 'one audit row for the bulk change');
  assert.equal(JSON.parse(audit[0].after).changed, 500);
  // Sorted by a column, at both sizes.
  await page.locator('#device-list th button[data-sort="load"]').click();
  await page.locator('#device-list th button[data-sort="load"]').getByText('▲').waitFor();
  await shot('devices-bulk-1366x768');
  await page.setViewportSize(PHONE);
  await shot('devices-bulk-390x844');
  const w = await page.evaluate(() => document.documentElement.scrollWidth);
  await page.setViewportSize(WIDE);
  assert.ok(w <= PHONE.width, `the devices page is ${w}px wide on a phone`);
});

test('CSV partial import: the good rows in, the rejected rows as a file with reasons', async () => {
  await page.goto(`${base}/#/dashboard`);
  await page.goto(`${base}/#/devices`);
  await page.locator('#csv-details').evaluate((d) => { d.open = true; });
  const csv = ['mac,model,profile,description,load,peer_firmware_sharing,load_server',
    '00DD00000001,Cisco 7961,,partial good 1,,,',
    '00DD00000002,Nokia 3310,,partial bad model,,,',
    '00DD00000003,Cisco 7961,,partial good 2,,,',
    'not-a-mac,Cisco 7961,,partial bad mac,,,'].join('\r\n') + '\r\n';
  await page.locator('#csv-text').fill(csv);
  await page.locator('#csv-partial').check();
  await page.locator('#csv-import').click();
  const link = page.locator('#csv-rejected');
  await link.waitFor({timeout: TIMEOUT});
  await page.locator('#csv-result').getByText('2 added').waitFor();
  await shot('csv-partial');
  assert.match(await link.getAttribute('download'), /^rejected-rows-job-\d+\.csv$/);
  const text = await page.evaluate(async (href) => (await fetch(href)).text(), await link.getAttribute('href'));
  const lines = text.trim().split('\r\n');
  assert.equal(lines[0], 'mac,model,profile,description,load,peer_firmware_sharing,load_server,reason');
  assert.equal(lines.length, 3, text);
  assert.ok(lines[1].startsWith('00DD00000002,Nokia 3310,,partial bad model,,,,') && lines[1].includes('unknown model'), lines[1]);
  assert.ok(lines[2].startsWith('not-a-mac,') && lines[2].includes('bad MAC address'), lines[2]);
  const good = JSON.parse(ctl('--json', 'device', 'list', '--search', 'partial good'));
  assert.equal(good.length, 2, 'the good rows were imported');
  // The template is a file the import takes.
  const tmpl = await page.evaluate(async () => (await fetch('/api/v1/devices/template')).text());
  assert.ok(tmpl.startsWith('mac,model,profile,description,load,peer_firmware_sharing,load_server\r\n'), tmpl);
});

// ---- issue 16, fleet pages: names not found, sites, profiles, defaults, loads ----

// Both screen sizes of the page as it is now, named for what they show.
async function shotBoth(name) {
  await page.evaluate(() => document.querySelectorAll('.toast').forEach((t) => t.remove()));
  fs.copyFileSync(await shot(`${name}-1366x768`), path.join(ARTIFACTS, `${name}-1366x768.png`));
  await page.setViewportSize(PHONE);
  // The navigation slides away at this width: shoot once it has.
  await page.waitForFunction(() => document.getAnimations().every((a) => a.playState !== 'running'));
  fs.copyFileSync(await shot(`${name}-390x844`), path.join(ARTIFACTS, `${name}-390x844.png`));
  await page.setViewportSize(WIDE);
}

test('the dashboard lists the names phones asked for that do not exist', async () => {
  const missing = 'SEPFEEDFACE0001.cnf.xml';
  for (let i = 0; i < 2; i++) {
    assert.throws(() => tftpGet(missing), 'loadsd has no such file');
  }
  await nav(page, 'Dashboard');
  const row = page.locator('#missing-names tr', {hasText: missing});
  await row.waitFor();
  assert.equal(await row.locator('td[data-label="Requests"]').textContent(), '2');
  assert.equal(await row.locator('td[data-label="From"]').textContent(), '127.0.0.1');
  assert.match(await row.locator('td[data-label="Last"]').textContent(), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  // The scrub card never says "all files match" beside "last full check: not yet".
  const status = await page.locator('#scrub-status').textContent();
  const last = await page.locator('dt', {hasText: 'Last full check'}).locator('xpath=following-sibling::dd[1]').textContent();
  assert.ok(!(/^not yet/.test(last) && /all files match/.test(status)), `scrub: "${status}" beside "${last}"`);
  await shotBoth('dashboard-missing-names');
});

test('a site rule gets a name and is edited in place', async () => {
  await nav(page, 'Sites');
  await page.getByRole('button', {name: 'Edit site 127.0.0.0/24'}).click();
  const dlg = page.getByRole('dialog', {name: 'Edit site 127.0.0.0/24'});
  await dlg.getByLabel('Name').fill('Test lab');
  await dlg.getByRole('button', {name: 'Save'}).click();
  await page.locator('.toast', {hasText: 'Saved Test lab 127.0.0.0/24 → 10.9.9.9'}).waitFor();
  await page.locator('td', {hasText: 'Test lab'}).waitFor();
  // A refusal shows under the field it names.
  await page.getByRole('button', {name: 'Edit site 127.0.0.0/24'}).click();
  await dlg.getByLabel('Network (CIDR)').fill('10.0.0.0/33');
  await dlg.getByRole('button', {name: 'Save'}).click();
  await dlg.locator('.field-error').waitFor();
  assert.equal(await dlg.locator('[name="cidr"]').getAttribute('aria-invalid'), 'true');
  await shotBoth('sites-edit');
  await dlg.getByRole('button', {name: 'Cancel'}).click();
});

test('a profile lists its member devices and is copied', async () => {
  await nav(page, 'Phone profiles');
  const card = page.locator('section.card[data-profile="branch"]');
  await card.getByText('Member devices (1)').click();
  await card.getByRole('link', {name: `SEP${MAC}`}).waitFor();
  await card.getByRole('button', {name: 'Copy profile branch'}).click();
  const dlg = page.getByRole('dialog', {name: 'Copy profile branch'});
  await dlg.getByLabel('New profile').fill('branch-two');
  await dlg.getByRole('button', {name: 'Copy'}).click();
  await page.locator('.toast', {hasText: 'Copied branch to branch-two'}).waitFor();
  await page.locator('section.card[data-profile="branch-two"]').getByText('Member devices (0)').waitFor();
  await shotBoth('profiles-members');
});

test('device defaults: a filter, SIP and SCCP rows, Save all', async () => {
  await nav(page, 'Device defaults');
  await page.locator('#defaults-filter').fill('7961');
  await page.getByRole('form', {name: 'Default load for Cisco 7961 SCCP', exact: true}).waitFor();
  assert.equal(await page.getByRole('form', {name: 'Default load for Cisco 8841', exact: true}).count(), 0);
  const before = await page.locator('main table').first().boundingBox();
  await page.getByRole('form', {name: 'Default load for Cisco 7961 SCCP', exact: true})
    .getByRole('combobox').selectOption(LOAD);
  await page.locator('#defaults-pending', {hasText: '1 unsaved change'}).waitFor();
  const after = await page.locator('main table').first().boundingBox();
  assert.equal(Math.round(after.width), Math.round(before.width), 'the columns stay put');
  await page.locator('#defaults-save-all').click();
  await page.locator('.toast', {hasText: '1 default load(s) saved'}).waitFor();
  const models = JSON.parse(ctl('--json', 'model', 'list'));
  const m = models.find((x) => x.name === 'Cisco 7961');
  assert.equal(m.default_loads.SCCP, LOAD);
  await shotBoth('device-defaults-protocols');
});

test('a load shows the devices not on their model\'s default', async () => {
  // A second load, and a 7961 given it: off its model's default.
  const other = path.join(tmp, 'other.zip');
  execFileSync('python3', [path.join(srcdir, 'tests', 'tools', 'mkbundle.py'), 'bundle', '--keys',
    path.join(tmp, 'keys'), '--out', other, '--format', 'zip', '--load', 'SIP42.9-4-2SR3-1S',
    '--seed', '7', '--component-headers', 'all'], {stdio: 'pipe'});
  ctl('import', other);
  ctl('device', 'add', '0011223344BB', '--model', 'Cisco 7961');
  ctl('device', 'set', '0011223344BB', 'load', 'SIP42.9-4-2SR3-1S');
  await page.goto(`${base}/#/loads/${LOAD}`);
  await page.locator('#off-default').getByRole('link', {name: 'SEP0011223344BB'}).waitFor();
  await page.goto(`${base}/#/firmware`);
  const row = page.locator('tr', {hasText: LOAD});
  await row.locator('td[data-label="Off the default"]', {hasText: '1'}).waitFor();
  await shotBoth('firmware-usage');
});

test('branches: a branch added shows its token once, is listed, and its report shows as holdings', async () => {
  await nav(page, 'Branches');
  await page.getByRole('heading', {name: 'Branches', exact: true, level: 1}).waitFor();
  await page.locator('#branch-name').fill('berlin-1');
  await page.locator('#branch-address').fill('198.51.100.7');
  await page.getByRole('button', {name: 'Add branch'}).click();
  const token = await page.locator('#branch-token').textContent();
  assert.match(token, /^lsb_[A-Za-z0-9_-]{43}$/);
  branchToken = token;
  await page.getByText('Copy the token of branch berlin-1 now: it is not shown again.').waitFor();
  await page.locator('#branch-token-copy').waitFor();
  const row = page.locator('tr', {hasText: 'berlin-1'});
  await row.locator('td[data-label="Last report"]', {hasText: 'never reported'}).waitFor();
  await shotBoth('branches-added');
  // The token works once, as the branch would use it, and is not in the list.
  const report = {version: '0.1.0', time: 1765000000, free_bytes: 52428800000,
    loads: [{name: LOAD, state: 'complete', files_have: 6, files_total: 6, bytes_have: 6000000, bytes_total: 6000000},
      {name: 'SIP78xx.14-2-1', state: 'staging', files_have: 3, files_total: 5, bytes_have: 64000000,
        bytes_total: 105000000, eta_s: 240}]};
  const r = await fetch(`${base}/api/v1/fleet/report`, {method: 'POST',
    headers: {'Authorization': `Bearer ${token}`, 'Content-Type': 'application/json'}, body: JSON.stringify(report)});
  assert.equal(r.status, 200, await r.text());
  await page.reload();
  await row.locator('td[data-label="Loads"]', {hasText: '1 of 2 complete'}).waitFor();
  assert.equal(await page.locator('#branch-token').count(), 0, 'the token is shown once');
  await row.getByRole('link', {name: 'berlin-1'}).click();
  await page.getByRole('heading', {name: 'Branch berlin-1'}).waitFor();
  const staging = page.locator('tr', {hasText: 'SIP78xx.14-2-1'});
  await staging.locator('td[data-label="State"]', {hasText: 'staging'}).waitFor();
  assert.match(await staging.locator('td[data-label="Progress"]').textContent(), /61% · 3 of 5 files/);
  assert.equal(await staging.locator('td[data-label="ETA"]').textContent(), '4 min 0 s');
  await shotBoth('branch-holdings');
  // A device pointed at the branch: its page says whether the config names
  // the branch, and why (docs/FLEET.md, the gate).
  ctl('device', 'set', MAC, 'load_server', 'branch:berlin-1');
  await page.goto(`${base}/#/devices/${MAC}`);
  const gate = page.locator('#load-server-gate');
  await gate.waitFor();
  assert.match(await gate.textContent(), /berlin-1/);
  await shotBoth('device-branch-gate');
  ctl('device', 'set', MAC, 'load_server', 'inherit');
});

// berlin-1's token (the branches step), for its later reports.
let branchToken = '';

// What a phone at ADDR gets over TFTP (curl's client, bound to ADDR).
function tftpFrom(addr, name) {
  return execFileSync('curl', ['-sS', '--max-time', '30', '--interface', addr, '-o', '/dev/null',
    `tftp://127.0.0.1:${tftpPort}/${name}`], {encoding: 'utf8'});
}

test('the Fleet page shows a phone that fetched its whole load as on target, with the counts', async () => {
  // A phone of its own at 127.0.0.50 (in the site rule Test lab): its
  // config, then every file of the load the config names, over TFTP.
  const phone = '00112233CC01';
  ctl('device', 'add', phone, '--model', 'Cisco 7961');
  ctl('device', 'set', phone, 'load', LOAD);
  let cfg = '';
  // Until the daemon's snapshot has the device (a refusal before then makes
  // curl fail: tried again).
  for (let i = 0; i < 40 && !cfg.includes(LOAD); i++) {
    if (i) await new Promise((r) => setTimeout(r, 250));
    try {
      cfg = execFileSync('curl', ['-sS', '--max-time', '15', '--interface', '127.0.0.50',
        `tftp://127.0.0.1:${tftpPort}/SEP${phone}.cnf.xml`], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe']});
    } catch (e) {
      cfg = `(curl: ${String(e.stderr || e.message).trim()})`;
    }
  }
  assert.ok(cfg.includes(LOAD), `the config names ${LOAD}: ${cfg}`);
  const load = await page.evaluate(async (n) => (await fetch(`/api/v1/loads/${n}`)).json(), LOAD);
  const files = load.file_list.map((f) => f.name);
  assert.ok(files.length >= 6, `the load has ${files.length} files`);
  for (const f of files) tftpFrom('127.0.0.50', f);
  // The inventory writes a phone's row within a few seconds.
  const inv = async () => page.evaluate(async () => (await fetch('/api/v1/fleet/inventory?limit=1000')).json());
  let mine;
  for (const end = Date.now() + TIMEOUT; Date.now() < end;) {
    mine = (await inv()).phones.find((x) => x.mac === phone);
    if (mine && mine.state === 'on_target' && mine.firmware.files_done === files.length) break;
    await page.waitForTimeout(500);
  }
  assert.equal(mine && mine.state, 'on_target', JSON.stringify(mine));
  assert.equal(mine.site, 'Test lab');
  assert.equal(mine.firmware.files_total, files.length);
  // The page shows it, with the counts the API gives (read again until both
  // agree: another phone may pass its settle time in between).
  await page.goto(`${base}/#/fleet`);
  await page.getByRole('heading', {name: 'Fleet', exact: true, level: 1}).waitFor();
  let site;
  let agree = false;
  for (const end = Date.now() + TIMEOUT; !agree && Date.now() < end;) {
    await page.reload();
    await page.locator('#fleet-sites tbody tr').first().waitFor();
    site = (await inv()).counts.sites.find((c) => c.site === 'Test lab');
    const row = page.locator('#fleet-sites tr', {hasText: 'Test lab'});
    const cells = await Promise.all(['On target', 'Pending', 'Stuck'].map((l) =>
      row.locator(`td[data-label="${l}"]`).textContent()));
    agree = cells.join(' ') === `${site.on_target} ${site.pending} ${site.stuck}`;
  }
  assert.ok(agree, 'the site\'s counts on the page are the API\'s');
  assert.ok(site.on_target >= 1);
  await page.locator('#fleet-sites tr', {hasText: 'Test lab'}).getByText('127.0.0.0/24').waitFor();
  await page.locator('#fleet-models tr', {hasText: 'Cisco 7961'}).waitFor();
  // Filtered by state and site: the phone's row says what it fetched.
  await page.locator('#fleet-state').selectOption('on_target');
  await page.locator('#fleet-site').selectOption('Test lab');
  const row = page.locator('#fleet-filter ~ div tr', {hasText: phone});
  await row.waitFor();
  assert.equal(await row.locator('td[data-label="State"]').textContent(), 'on target');
  assert.equal(await row.locator('td[data-label="Files"]').textContent(), `${files.length}/${files.length}`);
  assert.equal(await row.locator('td[data-label="Config names"]').textContent(), LOAD);
  assert.equal(await row.locator('td[data-label="Last load fetched"]').textContent(), LOAD);
  assert.match(await row.locator('td[data-label="Last seen"]').textContent(), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  await page.locator('#fleet-state').selectOption('stuck');
  await page.locator('#fleet-phones-count', {hasText: /^0 of /}).waitFor();
  await page.locator('#fleet-state').selectOption('on_target');
  // The branch's line links to its page.
  await page.locator('#fleet-branches li[data-branch="berlin-1"]').getByRole('link', {name: 'berlin-1'}).waitFor();
  // A phone whose branch is still staging its load: the gate sends it to the
  // central, and the Fleet page and the dashboard say so and why.
  const gated = '00112233CC02';
  ctl('device', 'add', gated, '--model', 'Cisco 7961');
  ctl('device', 'set', gated, 'load', LOAD);
  ctl('device', 'set', gated, 'load_server', 'branch:berlin-1');
  const report = {version: '0.1.0', time: 1765000000, free_bytes: 1, phones: [],
    loads: [{name: LOAD, state: 'staging', files_have: 2, files_total: 6, bytes_have: 2000000,
      bytes_total: 6000000, eta_s: 240}]};
  const r = await fetch(`${base}/api/v1/fleet/report`, {method: 'POST',
    headers: {'Authorization': `Bearer ${branchToken}`, 'Content-Type': 'application/json'}, body: JSON.stringify(report)});
  assert.equal(r.status, 200, await r.text());
  const why = `berlin-1: 1 phone(s) fetch from the central: branch berlin-1 holds 2 of 6 files of ${LOAD}, 33 %, ETA 4 min`;
  await page.reload();
  const fleetGate = page.locator('#fleet-gates li[data-holder="berlin-1"][data-outcome="central"]');
  await fleetGate.waitFor();
  assert.equal(await fleetGate.locator('.gate-text').textContent(), why);
  await shotBoth('fleet');
  // The dashboard's Fleet card: the same totals, the gated phones and why,
  // a link to the page.
  // A phone that fetched its config and no firmware counts as on target once
  // its config is a minute old (the settle time): the API and the card are
  // read again until they agree, as on the Fleet page above (the dashboard
  // refreshes itself every 5 s).
  await nav(page, 'Dashboard');
  await page.locator('#fleet-card a[href="#/fleet"]').first().waitFor();
  let cardText = '';
  let all;
  for (const end = Date.now() + TIMEOUT; Date.now() < end;) {
    all = (await inv()).counts.all;
    cardText = await page.locator('#fleet-card').textContent();
    if (cardText.startsWith(`${all.on_target}on target`)) break;
    await page.waitForTimeout(1000);
  }
  assert.match(cardText, new RegExp(`^${all.on_target}on target`));
  const cardGate = page.locator('#fleet-gates-card li[data-holder="berlin-1"][data-outcome="central"]');
  await cardGate.waitFor();
  assert.equal(await cardGate.locator('.gate-text').textContent(), why);
  await cardGate.getByRole('link', {name: gated}).waitFor();
  await shotBoth('fleet-dashboard');
  // Its link lists just those devices, with what the gate made of them.
  await cardGate.getByRole('link', {name: 'show the 1 device(s)'}).click();
  await page.locator('#dev-link-filter', {hasText: 'load server branch:berlin-1, that fetch from the central'}).waitFor();
  await page.locator('#device-range', {hasText: '1–1 of 1'}).waitFor();
  const devRow = page.locator('#device-list tbody tr', {hasText: gated});
  await devRow.locator('[data-gate="central"]', {hasText: 'gated: the central'}).waitFor();
  await shotBoth('fleet-gated-devices');
  // The branch holds it: the phone is sent there, and the card says so.
  report.loads[0] = {...report.loads[0], state: 'complete', files_have: 6, bytes_have: 6000000, eta_s: null};
  const r2 = await fetch(`${base}/api/v1/fleet/report`, {method: 'POST',
    headers: {'Authorization': `Bearer ${branchToken}`, 'Content-Type': 'application/json'}, body: JSON.stringify(report)});
  assert.equal(r2.status, 200, await r2.text());
  await nav(page, 'Dashboard');
  await page.locator('#fleet-gates-card li[data-holder="berlin-1"][data-outcome="holder"]',
    {hasText: `berlin-1: 1 phone(s) fetch from it: branch berlin-1 holds ${LOAD} complete`}).waitFor();
  ctl('device', 'remove', gated);
});

test('log out', async () => {
  await page.getByRole('button', {name: 'Log out'}).click();
  await page.getByRole('heading', {name: 'Log in to loadsd'}).waitFor();
  await page.getByText('You are logged out.').waitFor();
  await shot('logged-out');
  // The session is gone on the server too.
  const r = await page.evaluate(async () => (await fetch('/api/v1/session')).status);
  assert.equal(r, 401);
});

test('main pages at 1366x768 and on a phone screen, without horizontal scrolling', async () => {
  // A page of its own, in the same (logged out) profile.
  const p = await context.newPage();
  p.on('pageerror', (e) => pageErrors.push(e.message));
  await p.goto(`${base}/`);
  await p.getByLabel('User name').fill('admin');
  await p.getByLabel('Password').fill(PASSWORD);
  await p.getByLabel('Password').press('Enter');
  await p.getByRole('heading', {name: 'Dashboard', exact: true}).waitFor();
  const pages = ['dashboard', 'firmware', `loads/${LOAD}`, 'defaults', 'devices', `devices/${MAC}`,
    'profiles', 'enterprise', 'sites', 'branches', 'branches/berlin-1', 'fleet', 'transfers', 'audit', 'users',
    'trust'];
  const wide = [];
  for (const [label, vp] of [['wide', WIDE], ['phone', PHONE]]) {
    await p.setViewportSize(vp);
    for (const name of pages) {
      await p.goto(`${base}/#/${name}`);
      await p.locator('main h1').first().waitFor();
      await p.waitForFunction(() => !document.querySelector('main .spinner-text'));
      const w = await p.evaluate(() => document.documentElement.scrollWidth);
      if (w > vp.width) wide.push(`${label} ${name}: ${w}px`);
      await shot(`${label}-${name.replace(/[^A-Za-z0-9.-]+/g, '_')}`, p);
    }
  }
  // On the phone the navigation is behind the Menu button.
  await p.goto(`${base}/#/dashboard`);
  await p.getByRole('button', {name: 'Menu'}).click();
  await nav(p, 'Transfers');
  await p.getByRole('heading', {name: 'Transfers', exact: true}).waitFor();
  // The page refreshes itself (every 2 s): its "updated" stamp changes.
  const stamp = p.getByText(/active · updated/);
  await stamp.waitFor();
  const first = await stamp.textContent();
  await p.waitForFunction((t) => !document.body.textContent.includes(t), first, {timeout: TIMEOUT});
  await p.close();
  assert.deepEqual(wide, [], 'pages wider than the screen');
  assert.deepEqual(pageErrors, [], 'JavaScript errors on the page');
});
