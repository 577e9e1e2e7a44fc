// operations.js: live TFTP and HTTP transfers (refreshed every 2 s), the audit log,
// users and API tokens, and the trust store. A new token's text is shown
// once and kept nowhere else; server text goes through dom.js only.

import * as api from '../api.js';
import {h, card, pageHead, table, alertBox, replace, slot, field, select, toast, confirmDialog,
  loading, badge, fmtBytes, fmtRate, fmtTime, fmtDuration, busy} from '../dom.js';

// ---- transfers ----

function transferProgress(t) {
  const sent = t.acked_bytes ?? 0;
  const size = t.size ?? 0;
  const p = t.percent ?? (size ? Math.min(100, Math.round((100 * sent) / size)) : 0);
  return h('div', null, h('progress', {max: 100, value: p, 'aria-label': `${p}%`}),
    h('div.small.muted', null, `${p}% · ${fmtBytes(sent)} of ${fmtBytes(size)}`));
}

export async function transfersPage(main) {
  const box = slot();
  const stamp = h('span.small.muted', {'aria-live': 'off'});
  const pause = h('button.btn.btn-small', {type: 'button', 'aria-pressed': 'false'}, 'Pause');
  let paused = false;
  pause.addEventListener('click', () => {
    paused = !paused;
    pause.textContent = paused ? 'Resume' : 'Pause';
    pause.setAttribute('aria-pressed', String(paused));
  });
  const refresh = async () => {
    if (paused) return;
    try {
      const r = await api.get('/transfers');
      const list = r.transfers || [];
      replace(box, table([
        {label: 'Protocol', render: (t) => (t.protocol || 'tftp').toUpperCase()},
        {label: 'Client', render: (t) => h('span.mono.break', null, t.client || '—')},
        {label: 'File', render: (t) => h('span.mono.break', null, t.file || '—')},
        {label: 'Progress', render: transferProgress},
        {label: 'Rate', num: true, render: (t) => fmtRate(t.bytes_per_second)},
        {label: 'Block / window', num: true, render: (t) => `${t.blksize ?? '—'} / ${t.windowsize ?? '—'}`},
        {label: 'Elapsed', num: true, render: (t) => fmtDuration((t.elapsed_ms ?? 0) / 1000)},
      ], list, {empty: 'No transfer in progress.'}));
      stamp.textContent = `${list.length} active · updated ${fmtTime(Date.now() / 1000)}`;
    } catch (e) {
      replace(box, alertBox('bad', api.errorText(e)));
    }
  };
  main.append(pageHead('Transfers', 'TFTP and HTTP transfers in progress, refreshed every 2 seconds.', pause),
    h('section.card', null, h('div.card-head', null, h('h2', null, 'Live'), stamp), box));
  replace(box, loading());
  await refresh();
  const timer = setInterval(refresh, 2000);
  return () => clearInterval(timer);
}

// ---- audit ----

// A JSON object's text as an object, or null (plain text stays text).
function asObject(text) {
  if (typeof text !== 'string' || !text.startsWith('{')) return null;
  try {
    const v = JSON.parse(text);
    return v && typeof v === 'object' && !Array.isArray(v) ? v : null;
  } catch (e) {
    return null;
  }
}

function shown(v) {
  if (v === undefined) return '—';
  if (v === null) return 'inherit';
  return typeof v === 'string' ? (v === '' ? '""' : v) : JSON.stringify(v);
}

// Before and after as a diff: for JSON objects one line per member that
// changed ("load: A → B"), else "before → after".
function auditChange(before, after) {
  const b = asObject(before), a = asObject(after);
  if (before == null && after == null) return '';
  if ((b || before == null) && (a || after == null) && (b || a)) {
    const keys = [...new Set([...Object.keys(b || {}), ...Object.keys(a || {})])].sort();
    const lines = keys.filter((k) => JSON.stringify((b || {})[k]) !== JSON.stringify((a || {})[k]))
      .map((k) => h('li', null, h('span.muted', null, `${k}: `),
        b ? [h('del', null, shown(b[k])), ' → '] : null, h('ins', null, shown((a || {})[k]))));
    return lines.length ? h('ul.diff.small', null, lines) : h('span.muted.small', null, 'no change');
  }
  return h('span.small.break', null,
    before != null ? [h('del', null, String(before)), after != null ? ' → ' : ''] : null,
    after != null ? h('ins', null, String(after)) : null);
}

export async function auditPage(main) {
  const actor = h('input', {id: 'audit-actor', name: 'actor', autocomplete: 'off', placeholder: 'any'});
  const action = h('input', {id: 'audit-action', name: 'action', autocomplete: 'off', placeholder: 'e.g. load. or device.'});
  const box = slot();
  const more = slot();
  let rows = [];
  const show = () => replace(box, table([
    {label: 'When', render: (e) => h('span.nowrap', null, fmtTime(e.at))},
    {label: 'Who', render: (e) => e.actor},
    {label: 'Action', render: (e) => h('code.nowrap', null, e.action)},
    {label: 'Object', render: (e) => h('span.mono.break', null, e.object ?? '')},
    {label: 'Change', render: (e) => auditChange(e.before, e.after)},
  ], rows, {empty: 'No entries.'}));
  const fetchPage = async (before) => {
    const r = await api.get(`/audit${api.query({actor: actor.value.trim(), action: action.value.trim(), before, limit: 50})}`);
    rows = before ? rows.concat(r.entries || []) : (r.entries || []);
    show();
    if (r.next_before) {
      const b = h('button.btn', {type: 'button'}, 'Older entries');
      b.addEventListener('click', () => fetchPage(r.next_before).catch((e) => toast(api.errorText(e), true)));
      replace(more, h('div.actions', null, b));
    } else {
      replace(more);
    }
  };
  const form = h('form.toolbar', {id: 'audit-filter', 'aria-label': 'Filter the audit log'},
    field('User', actor), field('Action starts with', action), h('button.btn', {type: 'submit'}, 'Filter'));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    fetchPage(null).catch((e) => replace(box, alertBox('bad', api.errorText(e))));
  });
  main.append(pageHead('Audit log', 'Every change: who, when, what, before and after. Newest first.'), card(null, form, box, more));
  replace(box, loading());
  await fetchPage(null);
  return null;
}

// ---- users and tokens ----

function usersCard(refreshAll) {
  const box = slot();
  const name = h('input', {id: 'user-name', name: 'name', required: true, autocomplete: 'off'});
  const role = select([['viewer', 'viewer (read only)'], ['admin', 'admin']], 'viewer', {id: 'user-role', name: 'role'});
  const pass = h('input', {id: 'user-password', name: 'password', type: 'password', required: true, autocomplete: 'new-password', minlength: 8});
  const form = h('form', {id: 'user-add', 'aria-label': 'Add a user'},
    h('div.form-grid', null, field('User name', name), field('Role', role), field('Password', pass)),
    h('div.actions', null, h('button.btn.btn-primary', {type: 'submit'}, 'Add user')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      await api.post('/users', {name: name.value.trim(), role: role.value, password: pass.value});
      toast(`Added ${name.value.trim()}`);
      name.value = '';
      pass.value = '';
      refreshAll();
    } catch (e) {
      toast(api.errorText(e), true);
    }
  });
  const load = async () => {
    const r = await api.get('/users');
    replace(box, table([
      {label: 'User', render: (u) => h('strong', null, u.name)},
      {label: 'Role', render: (u) => badge(u.role)},
      {label: 'State', render: (u) => u.disabled ? badge('disabled') : badge('active', 'badge-ok')},
      {label: 'Created', render: (u) => fmtTime(u.created_at)},
      {label: '', render: (u) => h('div.actions', null,
        h('button.btn.btn-small', {type: 'button', on: {click: async () => {
          const to = u.role === 'admin' ? 'viewer' : 'admin';
          try {
            await api.patch(`/users/${api.seg(u.name)}`, {role: to});
            toast(`${u.name} is now ${to}`);
            load();
          } catch (e) {
            toast(api.errorText(e), true);
          }
        }}}, u.role === 'admin' ? 'Make viewer' : 'Make admin'),
        h('button.btn.btn-small', {type: 'button', on: {click: () => passwordDialog(u.name)}}, 'Set password'),
        h('button.btn.btn-danger.btn-small', {type: 'button', on: {click: async () => {
          const ans = await confirmDialog({title: `Remove user ${u.name}?`, message: 'Their sessions and tokens stop working.', confirm: 'Remove', danger: true});
          if (!ans) return;
          try {
            await api.del(`/users/${api.seg(u.name)}`);
            toast(`Removed ${u.name}`);
            refreshAll();
          } catch (e) {
            toast(api.errorText(e), true);
          }
        }}}, 'Remove'))},
    ], r.users || []));
  };
  return {el: h('section.card', null, h('h2', null, 'Users'), box, h('h3', null, 'Add a user'), form), load};
}

function passwordDialog(user) {
  const pass = h('input', {type: 'password', id: 'pw-new', required: true, minlength: 8, autocomplete: 'new-password'});
  const form = h('form', {method: 'dialog'}, h('h2', null, `New password for ${user}`), field('Password', pass),
    h('div.actions', null, h('button.btn.btn-primary', {type: 'submit'}, 'Set password'),
      h('button.btn', {type: 'button', on: {click: () => dlg.close()}}, 'Cancel')));
  const dlg = h('dialog', {'aria-label': `New password for ${user}`}, form);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      await api.patch(`/users/${api.seg(user)}`, {password: pass.value});
      toast(`Password of ${user} changed`);
      dlg.close();
    } catch (e) {
      toast(api.errorText(e), true);
    }
  });
  dlg.addEventListener('close', () => dlg.remove());
  document.body.append(dlg);
  dlg.showModal();
  pass.focus();
}

function tokensCard() {
  const box = slot();
  const secret = slot();
  const name = h('input', {id: 'token-name', name: 'name', required: true, autocomplete: 'off', placeholder: 'e.g. monitoring'});
  const form = h('form.inline-form', {id: 'token-add', 'aria-label': 'Create an API token'},
    field('Token label', name), h('button.btn.btn-primary', {type: 'submit'}, 'Create token'));
  const load = async () => {
    const r = await api.get('/tokens');
    replace(box, table([
      {label: 'Label', render: (t) => h('strong', null, t.name)},
      {label: 'User', render: (t) => t.user},
      {label: 'Created', render: (t) => fmtTime(t.created_at)},
      {label: 'Last used', render: (t) => t.last_used ? fmtTime(t.last_used) : 'never'},
      {label: '', render: (t) => h('button.btn.btn-danger.btn-small', {type: 'button', on: {click: async () => {
        const ans = await confirmDialog({title: `Revoke token ${t.name}?`, confirm: 'Revoke', danger: true});
        if (!ans) return;
        try {
          await api.del(`/tokens/${api.seg(t.id)}`);
          toast(`Revoked ${t.name}`);
          load();
        } catch (e) {
          toast(api.errorText(e), true);
        }
      }}}, 'Revoke')},
    ], r.tokens || [], {empty: 'No API tokens.'}));
  };
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      const r = await api.post('/tokens', {name: name.value.trim()});
      name.value = '';
      replace(secret, alertBox('warn', h('strong', null, 'Copy this token now: it is not shown again.'),
        h('code.secret', {tabindex: 0}, r.token),
        h('div.small', null, 'Use it as: Authorization: Bearer TOKEN')));
      load();
    } catch (e) {
      toast(api.errorText(e), true);
    }
  });
  return {el: h('section.card', null, h('h2', null, 'API tokens'), box, h('h3', null, 'Create a token'), form, secret), load};
}

export async function usersPage(main) {
  if (!api.isAdmin()) {
    main.append(pageHead('Users & tokens'), alertBox('info', 'Only admins manage users and tokens.'));
    return null;
  }
  const tokens = tokensCard();
  const users = usersCard(() => { users.load(); tokens.load(); });
  main.append(pageHead('Users & tokens', 'Admins change everything; viewers read only. Tokens are for scripts.'), users.el, tokens.el);
  await Promise.all([users.load(), tokens.load()]);
  return null;
}

// ---- trust store ----

export async function trustPage(main) {
  const box = slot();
  const pem = h('textarea', {id: 'trust-pem', name: 'pem', rows: 6, spellcheck: 'false', placeholder: '-----BEGIN CERTIFICATE-----'});
  const file = h('input', {type: 'file', id: 'trust-file', accept: '.pem,.crt,.cer'});
  const role = select([['vendor', 'vendor (signs firmware files)'], ['approval', 'approval (signs bundles)']], 'vendor', {id: 'trust-role', name: 'role'});
  file.addEventListener('change', async () => {
    if (file.files[0]) pem.value = await file.files[0].text();
  });
  const msg = slot();
  const form = h('form', {id: 'trust-add', 'aria-label': 'Trust a certificate'},
    h('div.form-grid', null, field('Certificate file', file), field('Role', role)),
    field('or paste PEM', pem),
    h('div.actions', null, h('button.btn.btn-primary', {type: 'submit', id: 'trust-submit'}, 'Trust this certificate')), msg);
  const load = async () => {
    const r = await api.get('/trust');
    replace(box, table([
      {label: 'Subject', render: (t) => h('span.break', null, t.subject)},
      {label: 'Role', render: (t) => badge(t.role)},
      {label: 'Issuer', render: (t) => h('span.break.small', null, t.issuer)},
      {label: 'Expires', render: (t) => {
        const expired = t.not_after && t.not_after * 1000 < Date.now();
        return h('span', null, fmtTime(t.not_after), expired ? [' ', badge('expired', 'badge-bad')] : null);
      }},
      {label: 'SHA-256', render: (t) => h('span.mono.break.small', null, t.sha256)},
      {label: '', render: (t) => api.isAdmin() ? h('button.btn.btn-danger.btn-small', {type: 'button', on: {click: async (ev) => {
        const ans = await confirmDialog({title: 'Remove this certificate?', message: `${t.subject}: loads it signed become “signed” instead of “verified” at the next check.`, confirm: 'Remove', danger: true});
        if (!ans) return;
        try {
          await busy(ev.target, () => api.del(`/trust/${api.seg(t.id)}`));
          toast('Removed');
          load();
        } catch (e) {
          toast(api.errorText(e), true);
        }
      }}}, 'Remove') : ''},
    ], r.trust || [], {empty: 'No trusted certificate: no load can be “verified”.'}));
  };
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    // The certificate stays in the form: a second click says it is trusted
    // already instead of sending nothing.
    if (!pem.value.trim() && file.files[0]) pem.value = await file.files[0].text();
    if (!pem.value.trim()) {
      replace(msg, alertBox('bad', 'Choose a certificate file or paste a PEM first.'));
      return;
    }
    try {
      const r = await busy(form.querySelector('#trust-submit'), () => api.post('/trust', {pem: pem.value, role: role.value}));
      replace(msg, alertBox('ok', `Trusted ${r.subject}.`));
      load();
    } catch (e) {
      replace(msg, alertBox(e.status === 409 ? 'warn' : 'bad', e.status === 409
        ? 'This certificate is already trusted: nothing changed.' : api.errorText(e)));
    }
  });
  main.append(pageHead('Trust store', 'Certificates that signatures are checked against.'), card('Trusted certificates', box),
    api.isAdmin() ? card('Add a certificate', form) : null);
  replace(box, loading());
  await load();
  return null;
}
