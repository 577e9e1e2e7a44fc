// devices.js: the Devices pages: the list with what each phone gets (effective
// load, PFS and load server with their origin), search, filters, sort and
// paging; bulk changes and removals of many devices as one job; add; CSV
// import (all or nothing, or partial with a rejected-rows file), template
// and export; one device: edit, its
// effective settings with the level each value comes from and the config
// file loadsd renders for it, both as the phone gets them (for the address of
// its last request, or one typed in). Server text is shown through dom.js only.

import * as api from '../api.js';
import {h, card, pageHead, table, alertBox, replace, slot, field, select, toast, confirmDialog,
  loading, levelBadge, clear, statusBadge, fmtTime} from '../dom.js';
import {optValue, pfsSelect, withForce} from './provisioning.js';

const PAGE = 50;

function macLink(mac) {
  return h('a.mono', {href: `#/devices/${encodeURIComponent(mac)}`}, mac);
}

async function catalogs() {
  const [m, p, l] = await Promise.all([
    api.get('/models').catch(() => ({models: []})),
    api.get('/profiles').catch(() => ({profiles: []})),
    api.get('/loads').catch(() => ({loads: []})),
  ]);
  return {models: m.models || [], profiles: p.profiles || [], loads: l.loads || []};
}

// ---- jobs (bulk changes, CSV imports) ----

// Polls job id until it ends; onProgress(job) while it runs. The job's row.
async function jobDone(id, onProgress) {
  for (;;) {
    const j = await api.get(`/jobs/${api.seg(String(id))}`);
    if (j.state === 'done' || j.state === 'failed') return j;
    if (onProgress) onProgress(j);
    await new Promise((r) => setTimeout(r, 300));
  }
}

function progressText(j) {
  const p = j.progress || {};
  const of = p.total ? ` ${p.done ?? 0} of ${p.total}` : '';
  return `Job ${j.id}: ${p.phase || j.state}${of}${p.total ? ` (${p.percent ?? 0}%)` : ''}…`;
}

// ---- CSV import ----

function csvErrors(list, more, head) {
  return [h('strong', null, head),
    list.length ? h('ul', {id: 'csv-errors'}, list.map((x) =>
      h('li', {dataset: {line: String(x.line ?? '')}}, x.line ? h('strong', null, `line ${x.line}: `) : null,
        String(x.message ?? '')))) : null,
    more ? h('p', null, `… and ${more} more error(s).`) : null];
}

function csvReport(job) {
  const r = job.report || {};
  const errs = r.errors || [];
  if (job.state !== 'done') {
    return alertBox('bad', ...csvErrors(errs, r.more_errors, `The import was refused: nothing changed (job ${job.id}).`));
  }
  const done = `Imported ${(r.rows ?? 0) - (r.rejected ?? 0)} row(s): ${r.added ?? 0} added, ${r.updated ?? 0} updated, ${r.unchanged ?? 0} unchanged.`;
  if (!r.rejected) return alertBox('ok', done);
  return alertBox('warn', ...csvErrors(errs, r.more_errors, `${done} ${r.rejected} row(s) rejected: `),
    h('p', null, h('a.btn.btn-small', {href: `/api/v1/jobs/${encodeURIComponent(String(job.id))}/rejected.csv`,
      download: `rejected-rows-job-${job.id}.csv`, id: 'csv-rejected'}, 'Download the rejected rows (with a reason each)')),
    h('p.small.muted', null, 'Fix them in that file and import it as it is: the reason column is ignored.'));
}

function importCard(onDone) {
  const fileIn = h('input', {type: 'file', id: 'csv-file', accept: '.csv,text/csv'});
  const text = h('textarea', {id: 'csv-text', rows: 5, spellcheck: 'false',
    placeholder: 'mac,model,profile,description,load,peer_firmware_sharing,load_server\nSEP001122334455,Cisco 7961,branch,Reception,,,'});
  const result = slot();
  result.id = 'csv-result';
  const submit = h('button.btn.btn-primary', {type: 'submit', id: 'csv-import', disabled: !api.isAdmin()}, 'Import CSV');
  const force = h('input', {type: 'checkbox', id: 'csv-force'});
  const partial = h('input', {type: 'checkbox', id: 'csv-partial'});
  fileIn.addEventListener('change', async () => {
    const f = fileIn.files[0];
    if (f) text.value = await f.text();
  });
  const form = h('form', {id: 'csv-form', 'aria-label': 'Import devices from CSV'},
    h('p.small.muted', null, 'Header row; columns mac, model, profile, description, load, peer_firmware_sharing, load_server; an empty cell means inherit. Every row is checked first; the import is all or nothing unless you tick "partial".'),
    h('div.form-grid', null, field('CSV file', fileIn)),
    field('or paste CSV', text),
    h('p.small', null, partial, ' ', h('label', {for: 'csv-partial'}, 'Partial: import the good rows and give me a file of the rejected ones')),
    h('p.small', null, force, ' ', h('label', {for: 'csv-force'}, 'Force: accept loads that are not in the catalog or are quarantined')),
    h('div.actions', null, submit,
      h('a.btn', {href: '/api/v1/devices/template', download: 'devices-template.csv', id: 'csv-template',
        title: 'The header and one example row'}, 'Download the template'),
      h('a.btn', {href: '/api/v1/devices/export', download: 'devices.csv', id: 'csv-export',
        title: 'Reads back unchanged with the import above'}, 'Export all as CSV'),
      h('a.btn', {href: '/api/v1/devices/export?safe=1', download: 'devices-spreadsheet.csv', id: 'csv-export-safe',
        title: 'Cells that start with = + - @ get a leading \' so a spreadsheet shows them as text instead of running them; not for re-import'},
        'Export for a spreadsheet')),
    result);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!text.value.trim()) {
      replace(result, alertBox('bad', 'Choose a CSV file or paste CSV text.'));
      return;
    }
    submit.disabled = true;
    replace(result, loading('Importing'));
    try {
      const q = api.query({force: force.checked ? 1 : '', partial: partial.checked ? 1 : ''});
      const r = await api.post(`/devices/import${q}`, text.value, {type: 'text/csv'});
      const job = await jobDone(r.id, (j) => replace(result, loading(progressText(j))));
      replace(result, csvReport(job));
      onDone();
    } catch (e) {
      replace(result, alertBox('bad', api.errorText(e)));
    } finally {
      submit.disabled = !api.isAdmin();
    }
  });
  return h('section.card', null, h('details', {id: 'csv-details'}, h('summary', null, h('strong', null, 'CSV import and export')), form));
}

// ---- add a device ----

function addCard(cat, onDone) {
  const mac = h('input', {id: 'dev-mac', name: 'mac', required: true, placeholder: '001122AABBCC', autocomplete: 'off', spellcheck: 'false'});
  const model = select(cat.models.map((m) => [m.name, m.name]), '', {id: 'dev-model', name: 'model'});
  const profile = select([['', 'none'], ...cat.profiles.map((p) => [p.name, p.name])], '', {id: 'dev-profile', name: 'profile'});
  const desc = h('input', {id: 'dev-desc', name: 'description', autocomplete: 'off'});
  const msg = slot();
  const submit = h('button.btn.btn-primary', {type: 'submit', disabled: !api.isAdmin()}, 'Add device');
  const form = h('form', {id: 'device-add', 'aria-label': 'Add a device'},
    h('div.form-grid', null, field('MAC address', mac), field('Model', model), field('Profile', profile), field('Description', desc)),
    h('div.actions', null, submit), msg);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      const body = {mac: mac.value.trim(), model: model.value, description: desc.value};
      if (profile.value) body.profile = profile.value;
      const r = await api.post('/devices', body);
      const added = (r && r.mac) || mac.value.trim();
      toast(`Added ${added}`);
      location.hash = `#/devices/${encodeURIComponent(added)}`;
    } catch (e) {
      const known = e.status === 409 && e.body && e.body.mac;
      replace(msg, known
        ? alertBox('bad', `Device ${e.body.mac} exists already. `, h('a', {href: `#/devices/${encodeURIComponent(e.body.mac)}`, id: 'dev-exists-link'}, `Open ${e.body.mac}`), ' to change its settings.')
        : alertBox('bad', api.errorText(e)));
    }
    onDone();
  });
  return h('section.card', null, h('details', {id: 'add-details'}, h('summary', null, h('strong', null, 'Add a device')), form));
}

// ---- list ----

const FILTERS = ['q', 'model', 'profile', 'load', 'site'];
const COLUMNS = [
  ['mac', 'MAC'], ['model', 'Model'], ['profile', 'Profile'], ['load', 'Load'],
  ['peer_firmware_sharing', 'PFS'], ['load_server', 'Load server'], ['description', 'Description'],
];

function effBadge(v, extra) {
  return v ? h('span', null, levelBadge(v.value, v.level), extra || null) : '—';
}

function loadCell(d) {
  const ld = (d.effective || {}).load;
  if (!ld) return '—';
  const bad = ld.state && ld.state !== 'ok' && ld.state !== 'none';
  return h('span.mono.break', null, levelBadge(ld.value, ld.level), bad ? [' ', statusBadge(ld.state)] : null,
    ld.held_back ? h('span.small.muted', null, ` (config names ${ld.served || 'no load'})`) : null);
}

// What the fleet gate made of a branch or probed load server (docs/FLEET.md):
// the config names it, names the central instead, or holds a new load back.
function gateNote(ls) {
  if (ls.gate === 'central') return h('span.small.muted', {dataset: {gate: ls.gate}}, ' (gated: the central)');
  if (ls.gate === 'held_back') return h('span.small.muted', {dataset: {gate: ls.gate}}, ` (names ${ls.sends}; new load held back)`);
  if (ls.gate === 'holder' && ls.sends !== ls.value) return h('span.small.muted', {dataset: {gate: ls.gate}}, ` (names ${ls.sends})`);
  return null;
}

function serverCell(d) {
  const ls = (d.effective || {}).load_server;
  return effBadge(ls, ls ? [ls.site ? h('span.small', null, ' ', h('code', null, ls.site)) : null, gateNote(ls)] : null);
}

// Filters a link may carry that have no control here (the dashboard's fleet
// gates): "#/devices?load_server=branch:NAME&gate=central".
const LINK_FILTERS = ['load_server', 'gate'];
const GATE_WORDS = {holder: 'fetch from it', central: 'fetch from the central', held_back: 'wait for a new load (stage first)', none: 'are not gated'};

function linkFilters() {
  const q = new URLSearchParams(location.hash.split('?')[1] || '');
  const out = {};
  for (const k of LINK_FILTERS) if (q.get(k)) out[k] = q.get(k);
  return out;
}

function linkFilterNote(fixed) {
  if (!Object.keys(fixed).length) return null;
  const parts = [];
  if (fixed.load_server) parts.push(h('span', null, 'load server ', h('code', null, fixed.load_server)));
  if (fixed.gate) parts.push(h('span', null, parts.length ? ', that ' : 'that ', GATE_WORDS[fixed.gate] || fixed.gate));
  return h('p.small', {id: 'dev-link-filter'}, 'Only the devices with ', ...parts, '. ', h('a', {href: '#/devices'}, 'Show every device'));
}

// The filter controls: search and selects fed by the catalogs.
function filterControls(cat, sites) {
  const any = ['', 'any'];
  return {
    q: h('input', {id: 'dev-search', type: 'search', name: 'q', placeholder: 'SEP name, MAC, description, model, profile or load', autocomplete: 'off'}),
    model: select([any, ...cat.models.map((m) => [m.name, m.name])], '', {id: 'dev-f-model', name: 'model'}),
    profile: select([any, ['none', 'none'], ...cat.profiles.map((p) => [p.name, p.name])], '', {id: 'dev-f-profile', name: 'profile'}),
    load: select([any, ['none', 'none'], ...cat.loads.map((l) => [l.name, l.name])], '', {id: 'dev-f-load', name: 'load'}),
    site: select([any, ['none', 'no site rule'], ...sites.map((x) => [x.cidr, `${x.cidr} → ${x.load_server}`])], '', {id: 'dev-f-site', name: 'site'}),
  };
}

// What a bulk change sets: one setting and its value control.
function bulkControls(cat) {
  const what = select([['load', 'Load'], ['profile', 'Profile'], ['peer_firmware_sharing', 'Peer firmware sharing'],
    ['load_server', 'Load server'], ['delete', 'Remove the devices']], 'load', {id: 'bulk-what', name: 'what'});
  const values = {
    load: select([['', 'inherit (model default)'], ...cat.loads.map((l) => [l.name, `${l.name} — ${l.status}`])], '', {id: 'bulk-load'}),
    profile: select([['', 'none'], ...cat.profiles.map((p) => [p.name, p.name])], '', {id: 'bulk-profile'}),
    peer_firmware_sharing: pfsSelect(null, {id: 'bulk-pfs'}),
    load_server: h('input', {id: 'bulk-ls', placeholder: 'host, none, or empty to inherit', autocomplete: 'off'}),
  };
  const valueBox = slot();
  const show = () => replace(valueBox, what.value === 'delete' ? h('span.muted', null, 'The phones get “file not found” for their config.')
    : field('Value', values[what.value]));
  what.addEventListener('change', show);
  show();
  const set = () => {
    const k = what.value;
    if (k === 'delete') return null;
    const v = values[k].value;
    if (k === 'peer_firmware_sharing') return {[k]: v === 'inherit' ? null : v};
    if (k === 'load_server') return {[k]: v.trim() === '' ? null : v.trim()};
    return {[k]: v === '' ? null : v};
  };
  return {what, valueBox, set};
}

export async function devicesPage(main) {
  const cat = await catalogs();
  const sites = await api.get('/sites').then((r) => r.sites || []).catch(() => []);
  const f = filterControls(cat, sites);
  const listBox = slot();
  const pager = h('div.pager');
  const bulkMsg = slot();
  bulkMsg.id = 'bulk-result';
  const selInfo = h('span', {id: 'bulk-count', 'aria-live': 'polite'});
  const allMatching = h('input', {type: 'checkbox', id: 'bulk-all'});
  const selected = new Set();
  let offset = 0;
  let total = 0;
  let sort = 'mac';
  const fixed = linkFilters();
  let filters = {...fixed};
  const count = () => (allMatching.checked ? total : selected.size);
  const updateCount = () => {
    selInfo.textContent = allMatching.checked ? `All ${total} matching device(s) selected` : `${selected.size} selected`;
  };
  const sortHead = (key, label) => {
    const cur = sort === key ? 'ascending' : sort === `-${key}` ? 'descending' : null;
    const b = h('button.btn-link', {type: 'button', dataset: {sort: key}, title: `Sort by ${label}`},
      label, cur ? (cur === 'ascending' ? ' ▲' : ' ▼') : '');
    b.addEventListener('click', () => { sort = sort === key ? `-${key}` : key; offset = 0; load(); });
    return b;
  };
  // Answers can arrive out of order (typing, then Enter, while the first
  // page loads): only the latest request's answer is shown.
  let loads = 0;
  let debounce = null; // the search as one types, 300 ms after the last key
  const load = async () => {
    const mine = ++loads;
    replace(listBox, loading());
    try {
      const r = await api.get(`/devices${api.query({...filters, sort, offset, limit: PAGE})}`);
      if (mine !== loads) return; // a newer request is on its way
      const list = r.devices || [];
      total = r.total ?? 0;
      const pageBox = h('input', {type: 'checkbox', id: 'bulk-page', 'aria-label': 'Select the devices on this page',
        checked: list.length > 0 && list.every((d) => selected.has(d.mac))});
      pageBox.addEventListener('change', () => {
        for (const d of list) pageBox.checked ? selected.add(d.mac) : selected.delete(d.mac);
        listBox.querySelectorAll('input.row-select').forEach((c) => { c.checked = pageBox.checked; });
        allMatching.checked = false;
        updateCount();
      });
      const rowBox = (d) => {
        const c = h('input.row-select', {type: 'checkbox', checked: allMatching.checked || selected.has(d.mac),
          'aria-label': `Select ${d.mac}`, dataset: {mac: d.mac}});
        c.addEventListener('change', () => {
          c.checked ? selected.add(d.mac) : selected.delete(d.mac);
          allMatching.checked = false;
          updateCount();
        });
        return c;
      };
      const eff = (d) => d.effective || {};
      const label = Object.fromEntries(COLUMNS);
      replace(listBox, table([
        {label: 'Select', render: rowBox},
        {label: label.mac, render: (d) => macLink(d.mac)},
        {label: label.model, key: 'model'},
        {label: label.profile, render: (d) => d.profile || h('span.muted', null, 'none')},
        {label: label.load, render: loadCell},
        {label: label.peer_firmware_sharing, render: (d) => effBadge(eff(d).peer_firmware_sharing)},
        {label: label.load_server, render: serverCell},
        {label: label.description, render: (d) => h('span.break', null, d.description || '')},
      ], list, {empty: Object.keys(filters).length ? 'No device matches.' : 'No devices yet.', caption: 'Devices as their phones get them'}));
      const tbl = listBox.querySelector('table');
      tbl.id = 'device-list';
      // The heads: a page checkbox, then a sort button per column.
      const ths = tbl.querySelectorAll('thead th');
      replace(ths[0], pageBox);
      COLUMNS.forEach(([k, l], i) => {
        replace(ths[i + 1], sortHead(k, l));
        const cur = sort === k ? 'ascending' : sort === `-${k}` ? 'descending' : null;
        if (cur) ths[i + 1].setAttribute('aria-sort', cur);
      });
      const last = offset + list.length;
      const prev = h('button.btn.btn-small', {type: 'button', disabled: offset === 0}, '← Previous');
      const next = h('button.btn.btn-small', {type: 'button', disabled: last >= total}, 'Next →');
      prev.addEventListener('click', () => { offset = Math.max(0, offset - PAGE); load(); });
      next.addEventListener('click', () => { offset += PAGE; load(); });
      replace(pager, h('span.muted', {id: 'device-range'}, list.length ? `${offset + 1}–${last} of ${total}` : ''),
        h('div.actions', null, prev, next));
      updateCount();
    } catch (e) {
      if (mine === loads) replace(listBox, alertBox('bad', api.errorText(e)));
    }
  };
  const apply = () => {
    clearTimeout(debounce);
    const next = {...fixed};
    for (const k of FILTERS) {
      const v = (f[k].value || '').trim();
      if (v) next[k] = v;
    }
    // The same search again (Enter after typing) keeps the page and the
    // selection as they are.
    if (JSON.stringify(next) === JSON.stringify(filters)) return;
    filters = next;
    offset = 0;
    selected.clear();
    allMatching.checked = false;
    load();
  };
  const search = h('form.toolbar', {role: 'search', id: 'device-search'},
    field('Search devices', f.q), field('Model', f.model), field('Profile', f.profile), field('Load', f.load),
    field('Site', f.site), h('button.btn', {type: 'submit'}, 'Search'));
  search.addEventListener('submit', (ev) => { ev.preventDefault(); apply(); });
  for (const k of ['model', 'profile', 'load', 'site']) f[k].addEventListener('change', apply);
  f.q.addEventListener('input', () => {
    clearTimeout(debounce);
    debounce = setTimeout(apply, 300);
  });
  allMatching.addEventListener('change', () => {
    listBox.querySelectorAll('input.row-select').forEach((c) => { c.checked = allMatching.checked; });
    if (!allMatching.checked) selected.clear();
    updateCount();
  });
  const b = bulkControls(cat);
  const go = h('button.btn.btn-primary', {type: 'submit', id: 'bulk-apply', disabled: !api.isAdmin()}, 'Apply');
  const bulkForm = h('form.toolbar', {id: 'bulk-form', 'aria-label': 'Change the selected devices'},
    h('div.field', null, h('span', null, selInfo), h('span.small', null, allMatching, ' ', h('label', {for: 'bulk-all'}, 'select every device matching the search'))),
    field('Set', b.what), b.valueBox, go);
  bulkForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const n = count();
    if (n === 0) {
      replace(bulkMsg, alertBox('bad', 'Select devices first (tick rows, or every device matching the search).'));
      return;
    }
    const set = b.set();
    const sel = allMatching.checked ? {filter: filters} : {macs: [...selected]};
    const body = set ? {action: 'set', ...sel, set} : {action: 'delete', ...sel};
    const what = set ? `Set ${Object.keys(set)[0]} on ${n} device(s)` : `Remove ${n} device(s)`;
    if (!set && !(await confirmDialog({title: `${what}?`, message: 'One job, all or nothing.', confirm: 'Remove', danger: true}))) return;
    go.disabled = true;
    try {
      const r = await withForce((force) => api.post('/devices/bulk', force ? {...body, force: true} : body), what);
      if (!r) return;
      const job = await jobDone(r.id, (j) => replace(bulkMsg, loading(progressText(j))));
      const rep = job.report || {};
      replace(bulkMsg, job.state === 'done'
        ? alertBox('ok', `Job ${job.id}: ${rep.matched} device(s) selected, ${rep.changed} changed.`)
        : alertBox('bad', `Job ${job.id} failed, nothing changed: ${((rep.problems || [])[0] || {}).message || 'see the job'}`));
      selected.clear();
      allMatching.checked = false;
      await load();
    } catch (e) {
      replace(bulkMsg, alertBox('bad', api.errorText(e)));
    } finally {
      go.disabled = !api.isAdmin();
    }
  });
  main.append(pageHead('Devices', 'Phones by MAC address, with what each gets: search, sort, change many at once, import and export.'),
    addCard(cat, () => {}), importCard(load), card(null, search, linkFilterNote(fixed), bulkForm, bulkMsg, listBox, pager));
  await load();
  return () => clearTimeout(debounce);
}

// ---- one device ----

// For whom the page resolves: the phone's last request, an address the admin
// typed, or none (a phone outside every site rule).
function fromText(f) {
  if (!f || !f.address) {
    return f && f.seen_address
      ? 'Shown as a phone outside every site rule gets it.'
      : 'No request from this phone seen yet: shown as a phone outside every site rule gets it.';
  }
  if (f.source === 'given') return `Shown as a phone at ${f.address} gets it.`;
  return `Shown as the phone gets it: its last request came from ${f.address} (since ${fmtTime(f.seen_at)}).`;
}

// The load-server gate (docs/FLEET.md): whether the config names the load
// server, and why not. Nothing for a load server that is not gated.
function gateView(g) {
  if (!g || g.state === 'not_gated') return null;
  if (g.state === 'ok') {
    return h('div', {id: 'load-server-gate'}, alertBox('ok', `Phones are sent to ${g.sends}: ${g.why}`));
  }
  const kind = g.state === 'not_probed' ? 'info' : 'warn';
  const tail = g.sends ? '' : ' — phones fetch from this server meanwhile';
  return h('div', {id: 'load-server-gate'}, alertBox(kind, `${g.why}${tail}`));
}

function effectiveView(e) {
  const s = e.settings || e;
  const row = (label, v, extra) => [h('dt', null, label), h('dd', {dataset: {setting: label}},
    v ? levelBadge(v.value, v.level) : '—', extra || null)];
  const warnings = e.warnings || [];
  const ld = s.load || {};
  const ls = s.load_server || {};
  return h('div', null,
    h('p.small', {id: 'seen-from'}, fromText(e.from)),
    h('dl.kv', {id: 'effective'},
      h('dt', null, 'Model'), h('dd', null, e.model || '—', e.pfs_capable === false ? h('span.muted', null, ' (cannot do peer firmware sharing)') : null),
      h('dt', null, 'Profile'), h('dd', null, e.profile || 'none'),
      row('Peer firmware sharing', s.peer_firmware_sharing),
      row('Load server', ls, ls.site ? h('span.small', {id: 'site-origin'}, ' site rule ', h('code', null, ls.site)) : null),
      row('Load', ld, ld.state && ld.state !== 'ok' && ld.state !== 'none' ? [' ', statusBadge(ld.state)] : null),
      h('dt', null, 'Config names'), h('dd.mono', {id: 'served-load'}, ld.served || 'no load')),
    gateView(e.load_server_gate),
    ld.held_back ? h('div', {id: 'held-back'}, alertBox('bad', ld.held_back)) : null,
    warnings.length ? h('div', {id: 'device-warnings'}, alertBox('warn', h('strong', null, 'Warnings'), h('ul', null, warnings.map((w) => h('li', null, String(w)))))) : null);
}

// What the phone reads first, above the XML: its load, load server and
// call manager (empty: a warning).
function configSummary(xml) {
  const doc = new DOMParser().parseFromString(xml, 'application/xml');
  const text = (sel) => {
    const el = doc.querySelector(sel);
    return el ? el.textContent : null;
  };
  const shown = (v, none) => (v === null ? h('span.muted', null, 'not in the file') : (v === '' ? h('span.muted', null, none) : h('code', null, v)));
  const cm = text('callManagerGroup member callManager name') ?? text('callManager name');
  return h('div', {id: 'config-summary'},
    h('dl.kv', null,
      h('dt', null, 'loadInformation'), h('dd', {id: 'cfg-load'}, shown(text('loadInformation'), 'empty: the phone keeps its load')),
      h('dt', null, 'loadServer'), h('dd', {id: 'cfg-load-server'}, shown(text('loadServer'), 'empty: the phone fetches its load from this server')),
      h('dt', null, 'callManager'), h('dd', {id: 'cfg-cm'}, shown(cm, 'empty'))),
    cm === '' ? alertBox('warn', 'The config names no call manager (enterprise CUCM address is empty): the phone cannot register. Set it under Provisioning → Enterprise.') : null);
}

function editForm(d, cat, onSaved) {
  const model = select(cat.models.map((m) => [m.name, m.name]), d.model, {id: 'edit-model', name: 'model'});
  const profile = select([['', 'none'], ...cat.profiles.map((p) => [p.name, p.name])], d.profile || '', {id: 'edit-profile', name: 'profile'});
  const desc = h('input', {id: 'edit-desc', name: 'description', value: d.description || '', autocomplete: 'off'});
  const pfs = pfsSelect(optValue(d.peer_firmware_sharing), {id: 'edit-pfs', name: 'peer_firmware_sharing'});
  const lsV = optValue(d.load_server);
  const lsInherit = h('input', {type: 'checkbox', id: 'edit-ls-inherit', checked: lsV === null});
  const ls = h('input', {id: 'edit-ls', name: 'load_server', value: lsV ?? '', disabled: lsV === null, placeholder: 'none', autocomplete: 'off'});
  lsInherit.addEventListener('change', () => { ls.disabled = lsInherit.checked; });
  const loadV = optValue(d.load);
  const loadOpts = [['', 'inherit (model default)'], ...cat.loads.map((l) => [l.name, `${l.name} — ${l.status}`])];
  if (loadV && !cat.loads.some((l) => l.name === loadV)) loadOpts.push([loadV, `${loadV} — not in the catalog`]);
  const load = select(loadOpts, loadV || '', {id: 'edit-load', name: 'load'});
  // The protocol: the model's unless set; only what the chosen model runs.
  const protocol = select([], d.protocol || '', {id: 'edit-protocol', name: 'protocol'});
  const protocolOptions = () => {
    const m = cat.models.find((x) => x.name === model.value);
    const runs = m ? (m.protocols || [m.protocol]) : [];
    const keep = runs.includes(protocol.value) ? protocol.value : '';
    protocol.replaceChildren(
      h('option', {value: ''}, m ? `the model's (${m.protocol})` : "the model's"),
      ...runs.map((p) => h('option', {value: p}, p)));
    protocol.value = keep;
  };
  protocolOptions();
  protocol.value = d.protocol || '';
  model.addEventListener('change', protocolOptions);
  const msg = slot();
  const save = h('button.btn.btn-primary', {type: 'submit', id: 'edit-save', disabled: !api.isAdmin()}, 'Save device');
  const form = h('form', {id: 'device-edit', 'aria-label': `Edit ${d.mac}`},
    h('div.form-grid', null,
      field('Model', model), field('Protocol', protocol), field('Profile', profile), field('Description', desc),
      field('Peer firmware sharing', pfs),
      h('div.field', null, field('Load server', ls), h('span.small', null, lsInherit, ' ', h('label', {for: lsInherit.id}, 'inherit'))),
      field('Load', load)),
    h('div.actions', null, save), msg);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    save.disabled = true;
    clear(msg);
    const body = {
      model: model.value, profile: profile.value || null, description: desc.value,
      peer_firmware_sharing: pfs.value === 'inherit' ? null : pfs.value,
      load_server: lsInherit.checked ? null : ls.value.trim(),
      load: load.value || null,
      protocol: protocol.value || null,
    };
    try {
      const r = await withForce((force) => api.put(`/devices/${api.seg(d.mac)}`, force ? {...body, force: true} : body),
        `Save ${d.mac}`);
      if (r) {
        replace(msg, alertBox('ok', 'Saved.'));
        toast(`${d.mac} saved`);
        onSaved();
      }
    } catch (e) {
      replace(msg, alertBox('bad', api.errorText(e)));
    } finally {
      save.disabled = !api.isAdmin();
    }
  });
  return form;
}

export async function devicePage(main, [mac]) {
  const back = h('p.crumb', null, h('a', {href: '#/devices'}, '← Devices'));
  main.append(back, loading());
  const path = `/devices/${api.seg(mac)}`;
  let d;
  try {
    d = await api.get(path);
    if (d.device) d = d.device;
  } catch (e) {
    replace(main, back, alertBox('bad', e.status === 404 ? `No device ${mac}.` : api.errorText(e)));
    return null;
  }
  const cat = await catalogs();
  const effBox = slot();
  const cfgBox = slot();
  const fromIn = h('input', {id: 'seen-from-input', name: 'from', autocomplete: 'off', placeholder: 'its last request', inputmode: 'text'});
  const fromForm = h('form.toolbar', {id: 'seen-from-form', 'aria-label': 'Show the settings for a phone address'},
    field('Phone address (site rules match it)', fromIn),
    h('button.btn', {type: 'submit', id: 'seen-from-show'}, 'Show'));
  const refresh = async () => {
    const want = fromIn.value.trim();
    let from = want;
    try {
      const e = await api.get(`${path}/effective${want ? `?from=${encodeURIComponent(want)}` : ''}`);
      replace(effBox, effectiveView(e));
      // The config for the very address the settings were resolved for.
      from = e.from && e.from.address ? e.from.address : 'none';
    } catch (e) {
      replace(effBox, alertBox('bad', api.errorText(e)));
    }
    try {
      const cfg = await api.get(`${path}/config${from ? `?from=${encodeURIComponent(from)}` : ''}`);
      const text = typeof cfg === 'string' ? cfg : (cfg.config || cfg.xml || JSON.stringify(cfg, null, 2));
      replace(cfgBox, configSummary(text), h('pre.code', {tabindex: 0, 'aria-label': 'Rendered configuration'}, text));
    } catch (e) {
      replace(cfgBox, alertBox('bad', api.errorText(e)));
    }
  };
  fromForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    refresh();
  });
  const remove = h('button.btn.btn-danger', {type: 'button', id: 'device-remove', disabled: !api.isAdmin()}, 'Remove…');
  remove.addEventListener('click', async () => {
    const ans = await confirmDialog({title: `Remove ${d.mac}?`, message: 'The phone will get “file not found” for its config file.', confirm: 'Remove', danger: true});
    if (!ans) return;
    try {
      await api.del(path);
      toast(`Removed ${d.mac}`);
      location.hash = '#/devices';
    } catch (e) {
      toast(api.errorText(e), true);
    }
  });
  const reloadDevice = async () => {
    try {
      const nd = await api.get(path);
      d = nd.device || nd;
    } catch (e) { /* keep the old copy */ }
    await refresh();
  };
  replace(main, back,
    pageHead(d.mac, d.description || null, remove),
    h('div.grid', null,
      card('What the phone gets', h('p.small.muted', null, 'Each value with the level it comes from.'), fromForm, effBox),
      card('Settings of this device', editForm(d, cat, reloadDevice))),
    card(`Rendered config: SEP${d.mac}.cnf.xml`, cfgBox));
  await refresh();
  return null;
}

