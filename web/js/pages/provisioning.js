// provisioning.js: the settings above the device: device defaults (model →
// load, picked from the catalog, with warnings), enterprise settings, common
// phone profiles and site rules. Each change is one API call; the server
// validates and audits, this page only shows its answers.

import * as api from '../api.js';
import {h, card, pageHead, table, alertBox, replace, slot, field, select, toast,
  confirmDialog, loading, badge, busy, fieldError} from '../dom.js';

// "inherit" / "on" / "off" for a setting a level may leave unset.
export function optValue(v) {
  if (v === null || v === undefined) return null;
  if (typeof v === 'object') return v.set === false ? null : (v.value ?? null);
  return String(v);
}

export function pfsSelect(value, props = {}) {
  return select([['inherit', 'inherit'], ['on', 'on'], ['off', 'off']], value ?? 'inherit', props);
}

function statusOf(loads, name) {
  return loads.find((l) => l.name === name) || null;
}

// Warnings for a chosen load, from the catalog as the page knows it.
export function loadWarnings(loads, name, model) {
  const out = [];
  if (!name) return out;
  const l = statusOf(loads, name);
  if (!l) out.push(`${name} is not in the catalog: phones asking for it get “file not found”.`);
  else if (l.status === 'quarantined') out.push(`${name} is quarantined: its files are not served.`);
  else if (l.status === 'unsigned') out.push(`${name} is unsigned.`);
  else if (l.status === 'signed') out.push(`${name}'s signer is not in the trust store.`);
  else if (l.status === 'partial') out.push(`${name} has a file without a signature (${l.weakest_file || 'a component'}).`);
  else if (l.status === 'invalid') out.push(`${name} has a file whose signature fails: it is never served.`);
  if (l && l.served === false && l.status !== 'quarantined') {
    out.push(`The signature policy (${l.policy}) does not serve ${name}: phones given it are held back.`);
  }
  if (model && l && model.protocol && /sip/i.test(model.protocol) !== /sip/i.test(name) && /^(SIP|SCCP)/i.test(name)) {
    out.push(`${model.name} runs ${model.protocol}; ${name} looks like a load for the other protocol.`);
  }
  return out;
}

function loadOptions(loads, current) {
  const opts = [['', 'no default: phones keep the load they run']];
  for (const l of loads) opts.push([l.name, `${l.name} — ${l.status}`]);
  if (current && !statusOf(loads, current)) opts.push([current, `${current} — not in the catalog`]);
  return opts;
}

// Retries a write with force=true after the admin confirms the server's refusal.
export async function withForce(doWrite, what) {
  try {
    return await doWrite(false);
  } catch (e) {
    if (e.status !== 409 && !(e.status === 400 && /force/i.test(e.message))) throw e;
    const ans = await confirmDialog({title: `${what}?`, message: `${api.errorText(e)} Do it anyway?`,
      confirm: 'Force', danger: true});
    if (!ans) return null;
    return doWrite(true);
  }
}

// ---- device defaults ----

export async function defaultsPage(main) {
  const box = slot();
  main.append(pageHead('Device defaults', 'The load each model runs unless a device says otherwise.'), box);
  await renderDefaults(box);
  return null;
}

// The rows of the page: one per (model, protocol), the model's own protocol
// first; a model that runs SIP and SCCP has a default load for each.
function defaultKeys(model) {
  const protocols = model.protocols || [model.protocol];
  return [model.protocol, ...protocols.filter((p) => p !== model.protocol)].map((protocol) => ({
    model, protocol, own: protocol === model.protocol,
    current: (model.default_loads && model.default_loads[protocol]) ?? (protocol === model.protocol ? model.default_load : null) ?? '',
  }));
}

// One (model, protocol) row: its select and warnings; changed() says
// whether the choice differs from what is stored. The model's own
// protocol's row is labelled by the model alone.
function defaultRow(key, loads) {
  const {model, protocol, current} = key;
  const label = key.own ? model.name : `${model.name} ${protocol}`;
  const sel = select(loadOptions(loads, current), current,
    {'aria-label': `Default load for ${label}`, name: 'load'});
  const warn = h('div.small', {'aria-live': 'polite'});
  const save = h('button.btn.btn-small', {type: 'submit', disabled: true}, 'Save');
  const form = h('form.inline-form', {'aria-label': `Default load for ${label}`}, h('div.field', null, sel), save);
  const row = {model, protocol, own: key.own, label, sel, warn, form, changed: () => sel.value !== current};
  const showWarn = () => {
    replace(warn, loadWarnings(loads, sel.value, {...model, protocol}).map((w) =>
      h('div', null, badge('warning', 'badge-warn'), ' ', w)));
    save.disabled = !row.changed();
  };
  sel.addEventListener('change', () => {
    showWarn();
    row.onChange?.();
  });
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      if (await busy(save, () => saveDefault(row))) {
        toast(`${label}: default load ${sel.value || 'none'}`);
        await row.onSaved?.();
      }
    } catch (e) {
      toast(api.errorText(e), true);
    }
    showWarn();
  });
  showWarn();
  return row;
}

// Saves one row (with the force question when the server refuses); true
// when saved.
async function saveDefault(r) {
  const res = await withForce((force) => api.put(`/models/${api.seg(r.model.name)}/default-load`,
    {load: r.sel.value || null, protocol: r.protocol, force}), `Set ${r.sel.value || 'no load'} as ${r.label}'s default`);
  return !!res;
}

async function renderDefaults(box) {
  replace(box, loading());
  const [m, l] = await Promise.all([api.get('/models'), api.get('/loads')]);
  const loads = l.loads || [];
  const models = m.models || [];
  const keys = models.flatMap(defaultKeys);
  if (!api.isAdmin()) {
    replace(box, card(null, table([
      {label: 'Model', render: (k) => h('strong', null, k.model.name)},
      {label: 'Protocol', render: (k) => k.protocol},
      {label: 'Default load', render: (k) => k.current
        ? h('span.mono.break.readonly-value', null, k.current) : 'no default: phones keep the load they run'},
    ], keys, {empty: 'No models.'})));
    return;
  }
  const rows = keys.map((k) => defaultRow(k, loads));
  const filter = h('input', {id: 'defaults-filter', type: 'search', placeholder: 'model, protocol or load', autocomplete: 'off'});
  const saveAll = h('button.btn.btn-primary', {type: 'button', id: 'defaults-save-all', disabled: true}, 'Save all changes');
  const pending = h('span.small.muted', {id: 'defaults-pending', 'aria-live': 'polite'});
  const tableBox = slot();
  const refreshPending = () => {
    const n = rows.filter((r) => r.changed()).length;
    saveAll.disabled = n === 0;
    pending.textContent = n ? `${n} unsaved change(s)` : '';
  };
  for (const r of rows) {
    r.onChange = refreshPending;
    r.onSaved = () => renderDefaults(box);
  }
  const shown = () => {
    const q = filter.value.trim().toLowerCase();
    return rows.filter((r) => !q || [r.model.name, r.protocol, r.sel.value]
      .some((v) => String(v || '').toLowerCase().includes(q)));
  };
  // The columns keep their widths (table-layout: fixed) when warnings come and go.
  const draw = () => replace(tableBox, table([
    {label: 'Model', render: (r) => h('strong', null, r.model.name)},
    {label: 'Type', num: true, render: (r) => String(r.model.device_type ?? '—')},
    {label: 'Protocol', render: (r) => r.own ? r.protocol : h('span', {title: 'the default for devices of this model set to this protocol'}, `${r.protocol} (devices set to it)`)},
    {label: 'PFS', render: (r) => r.model.pfs_capable ? badge('capable', 'badge-ok') : badge('not capable', 'badge-neutral')},
    {label: 'Default load', cls: 'wide', render: (r) => h('div', null, r.form, r.warn)},
  ], shown(), {empty: 'No model matches the filter.'}));
  filter.addEventListener('input', draw);
  saveAll.addEventListener('click', async () => {
    const changed = rows.filter((r) => r.changed());
    let saved = 0;
    try {
      await busy(saveAll, async () => {
        for (const r of changed) {
          if (await saveDefault(r)) saved += 1;
        }
      });
      toast(`${saved} default load(s) saved${saved < changed.length ? `, ${changed.length - saved} left unsaved` : ''}`);
    } catch (e) {
      toast(`${saved} saved; then: ${api.errorText(e)}`, true);
    }
    await renderDefaults(box);
  });
  draw();
  replace(box, card(null,
    h('div.filter-bar', null, field('Filter', filter), saveAll, pending),
    h('div.defaults-table', null, tableBox)));
}

// ---- enterprise ----

export async function enterprisePage(main) {
  const box = slot();
  main.append(pageHead('Enterprise', 'Settings every phone inherits unless a profile, site or device overrides them.'), box);
  replace(box, loading());
  const e = await api.get('/enterprise');
  const before = {peer_firmware_sharing: optValue(e.peer_firmware_sharing) || 'off',
    load_server: optValue(e.load_server) || null, cm_address: optValue(e.cm_address) || null,
    signature_policy: e.signature_policy};
  const pfs = select([['off', 'off'], ['on', 'on']], optValue(e.peer_firmware_sharing) || 'off', {id: 'ent-pfs', name: 'peer_firmware_sharing'});
  const ls = h('input', {id: 'ent-load-server', name: 'load_server', value: optValue(e.load_server) || '', placeholder: 'none', autocomplete: 'off'});
  const cm = h('input', {id: 'ent-cm', name: 'cm_address', value: optValue(e.cm_address) || '', placeholder: 'none', autocomplete: 'off'});
  const policy = e.signature_policy !== undefined
    ? select([['signed', 'signed (default)'], ['verified', 'verified only'], ['any', 'any, unsigned too']], e.signature_policy, {id: 'ent-policy', name: 'signature_policy'})
    : null;
  if (!api.isAdmin()) {
    // A viewer reads the values; no form to find disabled.
    const show = (v) => v || 'none';
    replace(box, card('Defaults for every phone', h('dl.kv', {id: 'enterprise-view'},
      h('dt', null, 'Peer firmware sharing (PFS)'), h('dd.readonly-value', null, before.peer_firmware_sharing),
      h('dt', null, 'Load server'), h('dd.readonly-value', null, show(before.load_server)),
      h('dt', null, 'CUCM address'), h('dd.readonly-value', null, show(before.cm_address)),
      h('dt', null, 'Signature policy'), h('dd.readonly-value', null, show(before.signature_policy)))));
    return null;
  }
  const msg = slot();
  const save = h('button.btn.btn-primary', {type: 'submit', id: 'ent-save'}, 'Save enterprise settings');
  const form = h('form', {id: 'enterprise-form', 'aria-label': 'Enterprise settings'},
    h('div.form-grid', null,
      field('Peer firmware sharing (PFS)', pfs),
      field('Load server', ls, '(host; empty = none)'),
      field('CUCM address', cm, '(callManager)'),
      policy ? field('Signature policy', policy) : null),
    h('div.actions', null, save), msg);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    // Only what changed: each member is one audited change.
    const now = {peer_firmware_sharing: pfs.value, load_server: ls.value.trim() || null,
      cm_address: cm.value.trim() || null};
    if (policy) now.signature_policy = policy.value;
    const body = {};
    for (const [k, v] of Object.entries(now)) if (v !== (before[k] ?? null)) body[k] = v;
    if (Object.keys(body).length === 0) {
      replace(msg, alertBox('info', 'Nothing changed.'));
      return;
    }
    try {
      await busy(save, () => api.put('/enterprise', body));
      Object.assign(before, body);
      fieldError(form, null);
      replace(msg, alertBox('ok', 'Saved.'));
      toast('Enterprise settings saved');
    } catch (err) {
      fieldError(form, err, api.errorText(err));
      replace(msg, alertBox('bad', api.errorText(err)));
    }
  });
  replace(box, card('Defaults for every phone', form),
    card('Precedence', h('ul', null,
      h('li', null, 'Peer firmware sharing: device > phone profile > enterprise.'),
      h('li', null, 'Load server: device > phone profile > site rule > enterprise.'),
      h('li', null, 'Load: device > model default (Device defaults).'))));
  return null;
}

// ---- common phone profiles ----

function profileEditor(p, onSaved) {
  const pfsV = optValue(p.peer_firmware_sharing);
  const lsV = optValue(p.load_server);
  const pfs = pfsSelect(pfsV, {name: 'peer_firmware_sharing'});
  const lsInherit = h('input', {type: 'checkbox', checked: lsV === null, name: 'load_server_inherit'});
  const ls = h('input', {name: 'load_server', value: lsV ?? '', placeholder: 'none', disabled: lsV === null, autocomplete: 'off'});
  lsInherit.addEventListener('change', () => { ls.disabled = lsInherit.checked; });
  const save = h('button.btn.btn-primary.btn-small', {type: 'submit'}, 'Save');
  const remove = h('button.btn.btn-danger.btn-small', {type: 'button'}, 'Remove');
  const inheritId = `inh-${Math.random().toString(36).slice(2)}`;
  lsInherit.id = inheritId;
  const form = h('form.profile-form', {'aria-label': `Profile ${p.name}`, dataset: {profile: p.name}},
    h('div.form-grid', null,
      field('Peer firmware sharing', pfs),
      h('div.field', null, field('Load server', ls),
        h('span.small', null, lsInherit, ' ', h('label', {for: inheritId}, 'inherit')))),
    h('div.actions', null, save, remove));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    save.disabled = true;
    try {
      const body = {};
      const newPfs = pfs.value === 'inherit' ? null : pfs.value;
      const newLs = lsInherit.checked ? null : ls.value.trim();
      if (newPfs !== pfsV) body.peer_firmware_sharing = newPfs;
      if (newLs !== lsV) body.load_server = newLs;
      if (Object.keys(body).length === 0) {
        toast('Nothing changed');
        save.disabled = false;
        return;
      }
      await api.put(`/profiles/${api.seg(p.name)}`, body);
      toast(`Profile ${p.name} saved`);
      onSaved();
    } catch (e) {
      toast(api.errorText(e), true);
      save.disabled = false;
    }
  });
  remove.addEventListener('click', async () => {
    const ans = await confirmDialog({title: `Remove profile ${p.name}?`,
      message: p.devices ? `${p.devices} device(s) use it; they will inherit from the enterprise instead.` : 'No device uses it.',
      confirm: 'Remove', danger: true});
    if (!ans) return;
    try {
      await api.del(`/profiles/${api.seg(p.name)}`);
      toast(`Removed profile ${p.name}`);
      onSaved();
    } catch (e) {
      toast(api.errorText(e), true);
    }
  });
  return form;
}

// A profile's member devices, fetched when the list is opened.
function membersBox(p) {
  const list = slot();
  const det = h('details.members', {dataset: {members: p.name}},
    h('summary', null, `Member devices (${p.devices ?? 0})`), list);
  let loaded = false;
  det.addEventListener('toggle', async () => {
    if (!det.open || loaded) return;
    loaded = true;
    replace(list, loading());
    try {
      const r = await api.get(`/profiles/${api.seg(p.name)}`);
      const members = r.members || [];
      replace(list, table([
        {label: 'Device', render: (d) => h('a.mono', {href: `#/devices/${encodeURIComponent(d.mac)}`}, `SEP${d.mac}`)},
        {label: 'Model', key: 'model'},
        {label: 'Description', render: (d) => h('span.break', null, d.description || '—')},
      ], members, {empty: 'No device uses this profile.'}),
      r.devices > members.length ? h('p.small.muted', null, `The first ${members.length} of ${r.devices}.`) : null);
    } catch (e) {
      loaded = false;
      replace(list, alertBox('bad', api.errorText(e)));
    }
  });
  return det;
}

// The copy dialog: a new name; the copy has the profile's settings and
// template, and no device.
function copyProfile(p, onSaved) {
  const name = h('input', {name: 'name', required: true, autocomplete: 'off', value: `${p.name}-copy`});
  const save = h('button.btn.btn-primary', {type: 'submit'}, 'Copy');
  const cancel = h('button.btn', {type: 'button'}, 'Cancel');
  const form = h('form', {'aria-label': `Copy profile ${p.name}`},
    h('h2', null, `Copy profile ${p.name}`),
    h('p.small.muted', null, 'The copy has the same settings and config template, and no device.'),
    field('New profile', name), h('div.actions', null, save, cancel));
  const dlg = h('dialog', {'aria-label': `Copy profile ${p.name}`}, form);
  cancel.addEventListener('click', () => dlg.close());
  dlg.addEventListener('close', () => dlg.remove());
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      const r = await busy(save, () => api.post(`/profiles/${api.seg(p.name)}/copy`, {name: name.value.trim()}));
      toast(`Copied ${p.name} to ${r.name}`);
      dlg.close();
      onSaved();
    } catch (e) {
      if (!fieldError(form, e, api.errorText(e))) toast(api.errorText(e), true);
    }
  });
  document.body.append(dlg);
  dlg.showModal();
  name.select();
}

// What a viewer sees of a profile: the values, not a disabled form.
function profileReadOnly(p) {
  const show = (v) => (optValue(v) === null ? 'inherit' : (optValue(v) || 'none'));
  return h('dl.kv', null,
    h('dt', null, 'Peer firmware sharing'), h('dd.readonly-value', null, show(p.peer_firmware_sharing)),
    h('dt', null, 'Load server'), h('dd.readonly-value', null, show(p.load_server)));
}

export async function profilesPage(main) {
  const box = slot();
  const name = h('input', {id: 'new-profile-name', name: 'name', required: true, autocomplete: 'off', placeholder: 'e.g. branch-offices'});
  const add = h('button.btn.btn-primary', {type: 'submit'}, 'Add profile');
  const addForm = h('form.inline-form', {id: 'profile-add', 'aria-label': 'Add a profile'}, field('New profile', name), add);
  const refresh = async () => {
    replace(box, loading());
    const r = await api.get('/profiles');
    const list = r.profiles || [];
    replace(box, list.length === 0 ? h('p.muted', null, 'No profiles yet.') : list.map((p) =>
      h('section.card', {dataset: {profile: p.name}},
        h('div.card-head', null, h('h2', null, p.name),
          api.isAdmin() ? h('button.btn.btn-small', {type: 'button', 'aria-label': `Copy profile ${p.name}`,
            on: {click: () => copyProfile(p, refresh)}}, 'Copy…') : null),
        api.isAdmin() ? profileEditor(p, refresh) : profileReadOnly(p),
        membersBox(p))));
  };
  addForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      await busy(add, () => api.post('/profiles', {name: name.value.trim()}));
      fieldError(addForm, null);
      toast(`Added profile ${name.value.trim()}`);
      name.value = '';
      await refresh();
    } catch (e) {
      if (!fieldError(addForm, e, api.errorText(e))) toast(api.errorText(e), true);
    }
  });
  main.append(pageHead('Common phone profiles', 'Settings shared by a group of devices; each one set or inherited from the enterprise.'),
    api.isAdmin() ? card(null, addForm) : null, box);
  await refresh();
  return null;
}

// ---- sites ----

// The edit dialog of one site rule: prefix, load server and name, one PUT;
// a refusal shows under the field it names.
function editSite(site, onSaved) {
  const cidr = h('input', {name: 'cidr', value: site.cidr, required: true, autocomplete: 'off'});
  const ls = h('input', {name: 'load_server', value: site.load_server, required: true, autocomplete: 'off'});
  const name = h('input', {name: 'name', value: site.name || '', autocomplete: 'off', placeholder: 'e.g. Leeds office'});
  const save = h('button.btn.btn-primary', {type: 'submit'}, 'Save');
  const cancel = h('button.btn', {type: 'button'}, 'Cancel');
  const form = h('form', {'aria-label': `Edit site ${site.cidr}`, id: 'site-edit'},
    h('h2', null, `Edit site ${site.cidr}`),
    h('div.form-grid', null, field('Name', name), field('Network (CIDR)', cidr), field('Load server', ls)),
    h('div.actions', null, save, cancel));
  const dlg = h('dialog', {'aria-label': `Edit site ${site.cidr}`}, form);
  cancel.addEventListener('click', () => dlg.close());
  dlg.addEventListener('close', () => dlg.remove());
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = {};
    if (cidr.value.trim() !== site.cidr) body.cidr = cidr.value.trim();
    if (ls.value.trim() !== site.load_server) body.load_server = ls.value.trim();
    if (name.value.trim() !== (site.name || '')) body.name = name.value.trim();
    if (Object.keys(body).length === 0) {
      dlg.close();
      return;
    }
    try {
      const r = await busy(save, () => api.put(`/sites/${api.seg(site.cidr)}`, body));
      toast(`Saved ${r.name ? r.name + ' ' : ''}${r.cidr} → ${r.load_server}`);
      dlg.close();
      onSaved();
    } catch (e) {
      if (!fieldError(form, e, api.errorText(e))) toast(api.errorText(e), true);
    }
  });
  document.body.append(dlg);
  dlg.showModal();
  name.focus();
}

export async function sitesPage(main) {
  const box = slot();
  const name = h('input', {id: 'site-name', name: 'name', placeholder: 'e.g. Leeds office', autocomplete: 'off'});
  const cidr = h('input', {id: 'site-cidr', name: 'cidr', required: true, placeholder: '10.1.0.0/16 or 2001:db8::/48', autocomplete: 'off'});
  const ls = h('input', {id: 'site-load-server', name: 'load_server', required: true, placeholder: 'host name or address', autocomplete: 'off'});
  const add = h('button.btn.btn-primary', {type: 'submit'}, 'Add site rule');
  const form = h('form', {id: 'site-add', 'aria-label': 'Add a site rule'},
    h('div.form-grid', null, field('Name', name, '(optional)'), field('Network (CIDR)', cidr), field('Load server', ls)),
    h('div.actions', null, add));
  const refresh = async () => {
    const r = await api.get('/sites');
    const list = r.sites || [];
    replace(box, table([
      {label: 'Name', render: (s) => s.name || h('span.muted', null, 'unnamed')},
      {label: 'Network', render: (s) => h('span.mono', null, s.cidr)},
      {label: 'Load server', render: (s) => h('span.mono.break', null, s.load_server || 'none')},
      {label: '', render: (s) => api.isAdmin() ? h('span.actions', null,
        h('button.btn.btn-small', {type: 'button', 'aria-label': `Edit site ${s.cidr}`,
          on: {click: () => editSite(s, refresh)}}, 'Edit'), ' ',
        h('button.btn.btn-danger.btn-small', {type: 'button',
          'aria-label': `Remove site ${s.cidr}`, on: {click: async (ev) => {
            const ans = await confirmDialog({title: `Remove site rule ${s.cidr}?`, confirm: 'Remove', danger: true});
            if (!ans) return;
            try {
              await busy(ev.target, () => api.del(`/sites/${api.seg(s.cidr)}`));
              toast(`Removed ${s.cidr}`);
              refresh();
            } catch (e) {
              toast(api.errorText(e), true);
            }
          }}}, 'Remove')) : ''},
    ], list, {empty: 'No site rules: phones use the profile or enterprise load server.'}));
  };
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      const body = {cidr: cidr.value.trim(), load_server: ls.value.trim()};
      if (name.value.trim()) body.name = name.value.trim();
      const r = await busy(add, () => api.post('/sites', body));
      fieldError(form, null);
      // Say what was stored: 10.1.2.77/24 is kept as 10.1.2.0/24.
      toast(r.host_bits_cleared
        ? `Stored ${r.cidr} → ${r.load_server} (you entered ${r.entered}: the host bits were cleared)`
        : `Added ${r.cidr} → ${r.load_server}`);
      cidr.value = '';
      ls.value = '';
      name.value = '';
      refresh();
    } catch (e) {
      fieldError(form, e, api.errorText(e));
      toast(api.errorText(e), true);
    }
  });
  main.append(pageHead('Sites', 'Network → load server, matched against the address of the phone that asks; the longest prefix wins.'),
    api.isAdmin() ? card('Add a rule', form) : null, card('Rules', box));
  await refresh();
  return null;
}
