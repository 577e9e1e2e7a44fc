// devices.js: the Devices pages: search and paging over many devices, add,
// CSV import with per-line errors and CSV export; one device: edit, its
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

function optText(v) {
  const x = optValue(v);
  return x === null ? h('span.muted', null, 'inherit') : (x === '' ? 'none' : x);
}

async function catalogs() {
  const [m, p, l] = await Promise.all([
    api.get('/models').catch(() => ({models: []})),
    api.get('/profiles').catch(() => ({profiles: []})),
    api.get('/loads').catch(() => ({loads: []})),
  ]);
  return {models: m.models || [], profiles: p.profiles || [], loads: l.loads || []};
}

// ---- CSV import ----

function csvErrors(e) {
  const list = (e.body && e.body.errors) || [];
  const more = e.body && e.body.more_errors;
  return alertBox('bad', h('strong', null, `The import was refused: nothing changed. ${api.errorText(e)}`),
    list.length ? h('ul', {id: 'csv-errors'}, list.map((x) =>
      h('li', {dataset: {line: String(x.line ?? '')}}, x.line !== undefined ? h('strong', null, `line ${x.line}: `) : null,
        String(x.message ?? '')))) : null,
    more ? h('p', null, `… and ${more} more error(s).`) : null);
}

function importCard(onDone) {
  const fileIn = h('input', {type: 'file', id: 'csv-file', accept: '.csv,text/csv'});
  const text = h('textarea', {id: 'csv-text', rows: 5, spellcheck: 'false',
    placeholder: 'mac,model,profile,description,load,peer_firmware_sharing,load_server\nSEP001122334455,Cisco 7961,branch,Reception,,,'});
  const result = slot();
  result.id = 'csv-result';
  const submit = h('button.btn.btn-primary', {type: 'submit', id: 'csv-import', disabled: !api.isAdmin()}, 'Import CSV');
  const force = h('input', {type: 'checkbox', id: 'csv-force'});
  fileIn.addEventListener('change', async () => {
    const f = fileIn.files[0];
    if (f) text.value = await f.text();
  });
  const form = h('form', {id: 'csv-form', 'aria-label': 'Import devices from CSV'},
    h('p.small.muted', null, 'Header row; columns mac, model, profile, description, load, peer_firmware_sharing, load_server; an empty cell means inherit. Every row is checked first; the import is all or nothing.'),
    h('div.form-grid', null, field('CSV file', fileIn)),
    field('or paste CSV', text),
    h('p.small', null, force, ' ', h('label', {for: 'csv-force'}, 'Force: accept loads that are not in the catalog or are quarantined')),
    h('div.actions', null, submit,
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
      const r = await api.post(`/devices/import${force.checked ? '?force=1' : ''}`, text.value, {type: 'text/csv'});
      replace(result, alertBox('ok', `Imported ${r.rows ?? '?'} row(s): ${r.added ?? 0} added, ${r.updated ?? 0} updated, ${r.unchanged ?? 0} unchanged.`));
      onDone();
    } catch (e) {
      replace(result, csvErrors(e));
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

export async function devicesPage(main) {
  const cat = await catalogs();
  const q = h('input', {id: 'dev-search', type: 'search', name: 'q', placeholder: 'MAC, description, model or profile', autocomplete: 'off'});
  const listBox = slot();
  const pager = h('div.pager');
  let offset = 0;
  let total = null;
  const load = async () => {
    replace(listBox, loading());
    try {
      const r = await api.get(`/devices${api.query({q: q.value.trim(), offset, limit: PAGE})}`);
      const list = r.devices || [];
      total = r.total ?? null;
      replace(listBox, table([
        {label: 'MAC', render: (d) => macLink(d.mac)},
        {label: 'Model', key: 'model'},
        {label: 'Profile', render: (d) => d.profile || h('span.muted', null, 'none')},
        {label: 'Description', render: (d) => h('span.break', null, d.description || '')},
        {label: 'Load', render: (d) => h('span.mono.break', null, optText(d.load))},
        {label: 'PFS', render: (d) => optText(d.peer_firmware_sharing)},
      ], list, {empty: q.value ? 'No device matches.' : 'No devices yet.'}));
      const last = offset + list.length;
      const prev = h('button.btn.btn-small', {type: 'button', disabled: offset === 0}, '← Previous');
      const next = h('button.btn.btn-small', {type: 'button', disabled: total !== null ? last >= total : list.length < PAGE}, 'Next →');
      prev.addEventListener('click', () => { offset = Math.max(0, offset - PAGE); load(); });
      next.addEventListener('click', () => { offset += PAGE; load(); });
      replace(pager, h('span.muted', null, list.length ? `${offset + 1}–${last}${total !== null ? ` of ${total}` : ''}` : (total ? `${total} device(s)` : '')),
        h('div.actions', null, prev, next));
    } catch (e) {
      replace(listBox, alertBox('bad', api.errorText(e)));
    }
  };
  const search = h('form.toolbar', {role: 'search', id: 'device-search'}, field('Search devices', q),
    h('button.btn', {type: 'submit'}, 'Search'));
  search.addEventListener('submit', (ev) => { ev.preventDefault(); offset = 0; load(); });
  let debounce = null;
  q.addEventListener('input', () => {
    clearTimeout(debounce);
    debounce = setTimeout(() => { offset = 0; load(); }, 300);
  });
  main.append(pageHead('Devices', 'Phones by MAC address: search, edit, import and export.'),
    addCard(cat, () => {}), importCard(load), card(null, search, listBox, pager));
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
  const msg = slot();
  const save = h('button.btn.btn-primary', {type: 'submit', id: 'edit-save', disabled: !api.isAdmin()}, 'Save device');
  const form = h('form', {id: 'device-edit', 'aria-label': `Edit ${d.mac}`},
    h('div.form-grid', null,
      field('Model', model), field('Profile', profile), field('Description', desc),
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

