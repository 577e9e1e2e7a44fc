// dashboard.js: the first page after login: loads by status, devices whose
// load is held back (missing, quarantined or blocked), the names phones asked
// for that do not exist, the fleet's phones on target (when there are any)
// and which phones the fleet gate sends to their branch or to the central and
// why, active transfers, scrub status.
// Read only; refreshes itself every 5 s while shown.

import * as api from '../api.js';
import {gatesList} from './fleet.js';
import {h, card, pageHead, table, badge, fmtBytes, fmtDuration, fmtTime, fmtRate,
  alertBox, replace, slot} from '../dom.js';

function stat(label, value, kind, href) {
  const inner = [h('div.stat-value', null, String(value ?? '—')), h('div.stat-label', null, label)];
  return href
    ? h(`a.stat${kind ? '.' + kind : ''}`, {href, 'aria-label': `${label}: ${value}`}, inner)
    : h(`div.stat${kind ? '.' + kind : ''}`, null, inner);
}

async function settle(p) {
  try {
    return {ok: true, v: await p};
  } catch (e) {
    return {ok: false, e};
  }
}

function problemsCard(res) {
  if (!res.ok) return card('Devices held back', alertBox('warn', api.errorText(res.e)));
  const list = res.v.devices || res.v.problems || [];
  return card(`Devices held back (${list.length})`,
    list.length === 0
      ? h('p.muted', null, 'None: every device resolves to a load that is in the catalog, intact and allowed by the signature policy.')
      : table([
        {label: 'Device', render: (d) => h('a.mono', {href: `#/devices/${encodeURIComponent(d.mac)}`}, d.mac)},
        {label: 'Model', key: 'model'},
        {label: 'Load', render: (d) => h('span.mono.break', null, d.load || 'none')},
        {label: 'From', render: (d) => d.level || '—'},
        {label: 'Problem', render: (d) => badge(d.problem || 'problem', 'badge-bad')},
        {label: 'Held back', render: (d) => h('span.small.break', null, d.held_back || '—')},
      ], list.slice(0, 50)));
}

function transfersCard(res) {
  if (!res.ok) return card('Active transfers', alertBox('warn', api.errorText(res.e)));
  const list = res.v.transfers || [];
  return card(`Active transfers (${list.length})`,
    list.length === 0 ? h('p.muted', null, 'No TFTP transfer in progress.')
      : table([
        {label: 'Client', render: (t) => h('span.mono.break', null, t.client || '—')},
        {label: 'File', render: (t) => h('span.mono.break', null, t.file || '—')},
        {label: 'Progress', num: true, render: (t) => `${t.percent ?? 0}%`},
        {label: 'Rate', num: true, render: (t) => fmtRate(t.bytes_per_second)},
      ], list.slice(0, 10)),
    h('p', null, h('a', {href: '#/transfers'}, 'All transfers, live')));
}

// The background scrub re-hashes every stored file: the card shows its last
// whole-catalog run and the quarantines recorded.
function lastRunText(run) {
  if (!run) return 'not yet (no file has failed a check so far)';
  return `${fmtTime(run.at)}: ${run.checked} checked, ${run.quarantined} quarantined`;
}

// One status that agrees with the last full check: "all files match" only
// once a whole-catalog check has run and nothing is quarantined.
function scrubStatus(bad, run) {
  if (bad > 0) return badge(`${bad} file(s) quarantined`, 'badge-bad');
  if (!run) return badge('no full check yet', 'badge-neutral');
  if (run.quarantined > 0) return badge('none quarantined now', 'badge-warn');
  return badge('all files match', 'badge-ok');
}

function scrubCard(stats) {
  const sc = (stats && stats.scrub) || {};
  const files = (stats && stats.files) || {};
  const bad = Number(sc.files_quarantined ?? files.quarantined ?? 0);
  return card('Integrity scrub',
    h('dl.kv', null,
      h('dt', null, 'Status'),
      h('dd', {id: 'scrub-status'}, scrubStatus(bad, sc.last_run)),
      h('dt', null, 'Last full check'), h('dd', null, lastRunText(sc.last_run)),
      h('dt', null, 'Files in the catalog'), h('dd', null, String(files.total ?? '—')),
      h('dt', null, 'Last quarantine'),
      h('dd', null, sc.last_quarantine_at ? fmtTime(sc.last_quarantine_at) : 'never'),
      h('dt', null, 'Quarantines recorded'), h('dd', null, String(sc.quarantines_recorded ?? 0))),
    bad > 0 ? alertBox('bad', 'Quarantined files no longer match their SHA-256 and are not served: re-import the load.') : null,
    h('p.small.muted', null, 'Files are re-hashed in the background; “Verify now” on a load checks it at once.'));
}

// The names phones asked for (TFTP or HTTP) that no source has: a phone
// not added, a load not imported, a typo in a default. Most asked-for first.
function missingCard(stats) {
  const m = stats && stats.missing_names;
  if (!m) return card('Names not found', h('p.muted', null, 'Not available.'));
  const top = m.top || [];
  return card(`Names not found (${m.names ?? 0})`,
    h('p.small.muted', null,
      `${m.requests ?? 0} request(s) since loadsd started asked for a file that does not exist; ` +
      'often a phone not added as a device, or a load not imported.'),
    top.length === 0 ? h('p.muted', {id: 'missing-names-none'}, 'None: every name asked for was found.')
      : h('div', {id: 'missing-names'}, table([
        {label: 'Name', render: (n) => h('span.mono.break', null, n.name)},
        {label: 'Requests', num: true, render: (n) => String(n.count)},
        {label: 'Last', render: (n) => h('span.small', null, fmtTime(n.last_at))},
        {label: 'From', render: (n) => h('span.mono', null, n.last_from || '—')},
      ], top)),
    m.evicted ? h('p.small.muted', null, `${m.evicted} rarer name(s) left the table (it keeps ${m.names_max}).`) : null);
}

// The firmware inventory's totals once a phone is in it, and which phones
// the fleet gate sends to their branch, to the central or holds back, and
// why (the Fleet page has the rest).
function fleetCard(res, gates) {
  const inv = res.ok && res.v.total ? res.v : null;
  const g = gates.ok ? gatesList(gates.v, 'fleet-gates-card') : null;
  if (!inv && !g) return null;
  const all = (inv && inv.counts && inv.counts.all) || {};
  return card(inv ? `Fleet: ${inv.total} phone(s)` : 'Fleet',
    inv ? h('div.stats', {id: 'fleet-card'},
      stat('on target', all.on_target ?? 0, 'ok', '#/fleet'),
      stat('pending', all.pending ?? 0, '', '#/fleet'),
      stat('stuck', all.stuck ?? 0, all.stuck ? 'warn' : '', '#/fleet')) : null,
    g ? h('h3', null, 'Load servers') : null, g,
    h('p', null, h('a', {href: '#/fleet'}, 'The fleet by site, model and branch')));
}

async function refresh(box) {
  const [stats, problems, transfers, inventory, gates] = await Promise.all([
    settle(api.get('/stats')), settle(api.get('/devices/problems')), settle(api.get('/transfers')),
    settle(api.get('/fleet/inventory?limit=1')), settle(api.get('/fleet/gates')),
  ]);
  const s = stats.ok ? stats.v : null;
  const loads = (s && s.loads) || {};
  const tftp = (s && s.tftp) || {};
  replace(box,
    stats.ok ? null : alertBox('bad', `Statistics unavailable: ${api.errorText(stats.e)}`),
    h('h2', null, 'Loads by status'),
    h('div.stats', null,
      stat('verified', loads.verified ?? 0, 'ok', '#/firmware'),
      stat('signed', loads.signed ?? 0, '', '#/firmware'),
      stat('unsigned', loads.unsigned ?? 0, (loads.unsigned ? 'warn' : ''), '#/firmware'),
      stat('quarantined', loads.quarantined ?? 0, (loads.quarantined ? 'bad' : ''), '#/firmware')),
    h('h2', null, 'Devices and imports'),
    h('div.stats', null,
      stat('devices', (s && s.devices && s.devices.total) ?? '—', '', '#/devices'),
      stat('load missing', (s && s.devices && s.devices.load_missing) ?? 0, (s && s.devices && s.devices.load_missing) ? 'bad' : ''),
      stat('load quarantined', (s && s.devices && s.devices.load_quarantined) ?? 0, (s && s.devices && s.devices.load_quarantined) ? 'bad' : ''),
      stat('imports running', s && s.jobs ? (s.jobs.uploading + s.jobs.queued + s.jobs.running) : 0, '', '#/firmware')),
    h('h2', null, 'TFTP'),
    h('div.stats', null,
      stat('active transfers', tftp.transfers_active ?? 0, '', '#/transfers'),
      stat('transfers done', tftp.transfers_done ?? 0),
      stat('failed', tftp.transfers_failed ?? 0, tftp.transfers_failed ? 'warn' : ''),
      stat('sent', fmtBytes(tftp.bytes_sent ?? 0)),
      stat('uptime', s ? fmtDuration(s.uptime_seconds) : '—')),
    fleetCard(inventory, gates),
    missingCard(s),
    h('div.grid', null, problemsCard(problems), transfersCard(transfers), scrubCard(s)));
}

export async function dashboardPage(main) {
  const box = slot();
  main.append(pageHead('Dashboard', 'What needs attention, at a glance.',
    h('a.btn.btn-primary', {href: '#/firmware'}, 'Upload firmware')), box);
  await refresh(box);
  const timer = setInterval(() => refresh(box).catch(() => {}), 5000);
  return () => clearInterval(timer);
}

