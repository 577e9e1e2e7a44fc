// fleet.js: the firmware inventory (docs/API.md, GET /fleet/inventory): per
// site rule and per model the phones on target, pending and stuck, each
// branch's holdings in one line, and the phones filterable by state and site.
// Read only for every role; server text goes through dom.js only.

import * as api from '../api.js';
import {h, card, pageHead, table, alertBox, replace, slot, field, select, loading, badge,
  fmtTime, fmtDuration} from '../dom.js';

const PAGE = 1000; // the API's largest page
const KEEP = 20000; // phones read at most (20 pages); the counts cover all
const SHOW = 200; // phone rows shown at once; "Show more" adds as many

const STATES = [['', 'Any state'], ['on_target', 'on target'], ['pending', 'pending'],
  ['stuck', 'stuck'], ['no_target', 'no target']];
const STATE_CLASS = {on_target: 'badge-ok', pending: 'badge-info', stuck: 'badge-warn', no_target: 'badge-neutral'};

function stateBadge(s) {
  return badge(String(s || '').replace('_', ' '), STATE_CLASS[s]);
}

// A count cell: stuck in the warning colour when there is any.
function stuckCell(n) {
  return n > 0 ? badge(String(n), 'badge-warn') : '0';
}

// ---- the fleet gate (GET /fleet/gates) ----

const OUTCOME_BADGE = {holder: 'badge-ok', central: 'badge-warn', held_back: 'badge-info'};

function outcomeLabel(g) {
  if (g.outcome === 'holder') return g.kind === 'branch' ? 'to the branch' : 'to the load server';
  return g.outcome === 'central' ? 'to the central' : 'held back';
}

// Per holder, the phones its gate sends to it, to the central or holds
// back (stage first), why, a few of them and a link to them all; null when
// no phone's load server is gated.
export function gatesList(doc, id) {
  const groups = (doc && doc.groups) || [];
  if (!groups.length) return null;
  return h('ul.fleet-gates', {id}, groups.map((g) => h('li', {dataset: {holder: g.holder, outcome: g.outcome}},
    badge(outcomeLabel(g), OUTCOME_BADGE[g.outcome]), ' ', h('span.break.gate-text', null, g.text), ' ',
    h('span.small.muted', null, 'e.g. ', (g.examples || []).map((m, i) =>
      [i ? ', ' : '', h('a.mono', {href: `#/devices/${encodeURIComponent(m)}`}, m)])), ' ',
    h('a.small', {href: `#/devices${api.query(g.filter || {})}`}, `show the ${g.devices} device(s)`))),
  doc.groups_left_out ? h('li.small.muted', null, `… and ${doc.groups_left_out} device(s) in groups not listed`) : null);
}

// Every page of phones (up to KEEP) and the counts, as one inventory.
async function readInventory() {
  const first = await api.get(`/fleet/inventory?offset=0&limit=${PAGE}`);
  const phones = first.phones || [];
  while (phones.length < Math.min(first.total, KEEP)) {
    const next = await api.get(`/fleet/inventory?offset=${phones.length}&limit=${PAGE}`);
    if (!next.phones || next.phones.length === 0) break;
    phones.push(...next.phones);
  }
  return {...first, phones};
}

// The site rule's prefix beside its name ("Test lab · 127.0.0.0/24").
function siteLabel(key, byName) {
  const s = byName.get(key);
  return h('span', null, h('strong', null, key),
    s && s.name ? h('span.mono.small.muted', null, ` ${s.cidr}`) : null);
}

function countsTable(rows, keyLabel, keyRender, empty) {
  return table([
    {label: keyLabel, render: keyRender},
    {label: 'On target', num: true, render: (c) => String(c.on_target)},
    {label: 'Pending', num: true, render: (c) => String(c.pending)},
    {label: 'Stuck', num: true, render: (c) => stuckCell(c.stuck)},
    {label: 'No target', num: true, render: (c) => String(c.no_target)},
  ], rows, {empty});
}

// The phones whose effective load server is branch:NAME (a device's, its
// profile's, a site rule's or the enterprise's value), counted by state.
function branchPhones(name, holderCounts) {
  const key = `branch:${name}`.toLowerCase();
  return holderCounts.find((c) => String(c.load_server).toLowerCase() === key);
}

function branchLine(b, holderCounts) {
  const r = b.last_report;
  const c = branchPhones(b.name, holderCounts);
  const holds = r ? `${b.loads_complete} of ${b.loads_total} loads complete` : 'never reported';
  return h('li.fleet-branch', {'data-branch': b.name},
    h('a', {href: `#/branches/${api.seg(b.name)}`}, h('strong', null, b.name)), ' · ',
    r && !r.fresh ? badge(`${holds}: stale`, 'badge-warn') : (r ? holds : badge(holds, 'badge-warn')),
    c ? h('span.small', null, ` · its phones: ${c.on_target} on target, ${c.pending} pending, `,
      c.stuck ? badge(`${c.stuck} stuck`, 'badge-warn') : '0 stuck')
      : h('span.small.muted', null, ' · no phone that fetched a config has it as load server'));
}

function phoneTable(rows) {
  return table([
    {label: 'MAC', render: (p) => h('a.mono', {href: `#/devices/${encodeURIComponent(p.mac)}`}, p.mac)},
    {label: 'Model', key: 'model'},
    {label: 'Site', render: (p) => h('span.break', null, p.site)},
    {label: 'Config names', render: (p) => h('span.mono.break', null, p.config.load || 'no load')},
    {label: 'Last load fetched', render: (p) => h('span.mono.break', null, p.firmware.load || '—')},
    {label: 'Files', num: true, render: (p) => (p.firmware.files_total ? `${p.firmware.files_done}/${p.firmware.files_total}` : '—')},
    {label: 'State', render: (p) => stateBadge(p.state)},
    {label: 'Last seen', render: (p) => h('span.small.nowrap', null, fmtTime(Math.max(p.config.at || 0, p.firmware.last || 0)))},
  ], rows, {empty: 'No phone matches.'});
}

export async function fleetPage(main) {
  const countsBox = slot();
  const branchBox = slot();
  const phonesBox = slot();
  const stateSel = select(STATES, '', {id: 'fleet-state', name: 'state'});
  const siteSel = select([['', 'Any site']], '', {id: 'fleet-site', name: 'site'});
  let inv = null;
  let shown = SHOW;

  const renderPhones = () => {
    if (!inv) return;
    const st = stateSel.value;
    const si = siteSel.value;
    const rows = inv.phones.filter((p) => (!st || p.state === st) && (!si || p.site === si));
    const more = h('button.btn', {type: 'button', id: 'fleet-more', on: {click: () => { shown += SHOW; renderPhones(); }}},
      'Show more');
    replace(phonesBox,
      h('p.small.muted', {id: 'fleet-phones-count'}, `${rows.length} of ${inv.total} phone(s)` +
        (inv.phones.length < inv.total ? ` (the first ${inv.phones.length} read)` : '')),
      phoneTable(rows.slice(0, shown)),
      rows.length > shown ? h('div.actions', null, more) : null);
  };

  const siteOptions = (keys) => {
    const was = siteSel.value;
    replace(siteSel, ...[['', 'Any site'], ...keys.map((k) => [k, k])].map(([v, l]) =>
      h('option', {value: v, selected: v === was}, l)));
  };

  const refresh = async () => {
    const [i, sites, branches, gates] = await Promise.all([readInventory(), api.get('/sites'),
      api.get('/branches').catch(() => ({branches: []})), api.get('/fleet/gates').catch(() => null)]);
    inv = i;
    const byName = new Map((sites.sites || []).map((s) => [s.name || s.cidr, s]));
    const counts = i.counts || {};
    const all = counts.all || {};
    siteOptions((counts.sites || []).map((c) => c.site));
    replace(countsBox,
      h('div.stats', {id: 'fleet-totals'},
        h('div.stat.ok', null, h('div.stat-value', null, String(all.on_target ?? 0)), h('div.stat-label', null, 'on target')),
        h('div.stat', null, h('div.stat-value', null, String(all.pending ?? 0)), h('div.stat-label', null, 'pending')),
        h(`div.stat${all.stuck ? '.warn' : ''}`, null, h('div.stat-value', null, String(all.stuck ?? 0)), h('div.stat-label', null, 'stuck')),
        h('div.stat', null, h('div.stat-value', null, String(all.no_target ?? 0)), h('div.stat-label', null, 'no target'))),
      h('div.grid', null,
        card('By site', h('div', {id: 'fleet-sites'}, countsTable(counts.sites || [], 'Site',
          (c) => siteLabel(c.site, byName), 'No phone has fetched a config yet.'))),
        card('By model', h('div', {id: 'fleet-models'}, countsTable(counts.models || [], 'Model',
          (c) => h('strong', null, c.model), 'No phone has fetched a config yet.')))),
      h('p.small.muted', null, `Stuck: started a load over ${fmtDuration(i.stuck_after_s)} ago and never finished. ` +
        `Read ${fmtTime(i.now)}.`));
    const bl = branches.branches || [];
    replace(branchBox, bl.length === 0 ? h('p.muted', null, 'No branches: phones fetch from this server or the load servers in settings.')
      : h('ul.fleet-branches', {id: 'fleet-branches'}, bl.map((b) => branchLine(b, counts.load_servers || []))),
    h('h3', null, 'Load servers: where the phones fetch their firmware'),
    gatesList(gates, 'fleet-gates') || h('p.muted', {id: 'fleet-gates-none'}, 'No phone\'s load server is a branch or a probed host.'));
    renderPhones();
  };

  stateSel.addEventListener('change', () => { shown = SHOW; renderPhones(); });
  siteSel.addEventListener('change', () => { shown = SHOW; renderPhones(); });
  const filters = h('form.toolbar', {id: 'fleet-filter', 'aria-label': 'Filter the phones', on: {submit: (ev) => ev.preventDefault()}},
    field('State', stateSel), field('Site', siteSel));
  main.append(pageHead('Fleet', 'Which phones run the load their config names: from the configs and firmware files this server served.'),
    countsBox, card('Branches', branchBox), card('Phones', filters, phonesBox));
  replace(countsBox, loading());
  try {
    await refresh();
  } catch (e) {
    replace(countsBox, alertBox('bad', api.errorText(e)));
    return null;
  }
  const timer = setInterval(() => refresh().catch(() => {}), 15000);
  return () => clearInterval(timer);
}
