// branches.js: the branches a central knows (docs/FLEET.md): each one's
// address, latest report, holdings and want list; add (its token shown
// once), remove. Viewers read only; server text goes through dom.js only.

import * as api from '../api.js';
import {h, card, pageHead, table, alertBox, replace, slot, field, toast, confirmDialog,
  loading, badge, fmtBytes, fmtTime, fmtDuration, busy, fieldError} from '../dom.js';

const STATE_CLASS = {
  complete: 'badge-ok', staging: 'badge-info', incomplete: 'badge-warn',
  quarantined: 'badge-bad', blocked: 'badge-bad',
};

// "40 s ago", or a warning badge when the report is older than the limit.
function reportAge(b) {
  const r = b.last_report;
  if (!r) return badge('never reported', 'badge-warn');
  const text = `${fmtDuration(r.age_s)} ago`;
  return r.fresh ? h('span.nowrap', null, text) : badge(`${text}: stale`, 'badge-warn');
}

// "1 of 2 complete" (the branch's page shows each holding's state).
function holdingsSummary(b) {
  if (!b.last_report) return '—';
  return `${b.loads_complete} of ${b.loads_total} complete`;
}

// A secret to copy: the text, a copy button, and the warning it is shown once.
function tokenBox(name, token) {
  const code = h('code.secret', {tabindex: 0, id: 'branch-token'}, token);
  const copy = h('button.btn.btn-small', {type: 'button', id: 'branch-token-copy'}, 'Copy');
  copy.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(token);
      toast('Token copied');
    } catch (e) {
      // No clipboard (plain HTTP): select it for Ctrl+C instead.
      const range = document.createRange();
      range.selectNodeContents(code);
      const sel = window.getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
      toast('Selected: press Ctrl+C to copy');
    }
  });
  return alertBox('warn', h('strong', null, `Copy the token of branch ${name} now: it is not shown again.`),
    code, h('div.actions', null, copy),
    h('div.small', null, 'On the branch: put it in the file given to --central-token-file (mode 0600).'));
}

async function removeBranch(ev, b, onDone) {
  const ans = await confirmDialog({title: `Remove branch ${b.name}?`,
    message: 'Its token stops working and what it holds is forgotten: phones it served fetch from this server.',
    confirm: 'Remove', danger: true});
  if (!ans) return;
  try {
    await busy(ev.target, () => api.del(`/branches/${api.seg(b.name)}`));
    toast(`Removed ${b.name}`);
    onDone();
  } catch (e) {
    toast(api.errorText(e), true);
  }
}

function branchActions(b, refresh) {
  if (!api.isAdmin()) return '';
  return h('span.actions', null,
    h('button.btn.btn-danger.btn-small', {type: 'button', 'aria-label': `Remove branch ${b.name}`,
      on: {click: (ev) => removeBranch(ev, b, refresh)}}, 'Remove'));
}

function addForm(secret, refresh) {
  const name = h('input', {id: 'branch-name', name: 'name', required: true, placeholder: 'e.g. berlin-1', autocomplete: 'off'});
  const address = h('input', {id: 'branch-address', name: 'address', required: true, placeholder: 'host name or address phones reach', autocomplete: 'off'});
  const add = h('button.btn.btn-primary', {type: 'submit'}, 'Add branch');
  const form = h('form', {id: 'branch-add', 'aria-label': 'Add a branch'},
    h('div.form-grid', null, field('Name', name), field('Address', address)),
    h('div.actions', null, add));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      const r = await busy(add, () => api.post('/branches', {name: name.value.trim(), address: address.value.trim()}));
      fieldError(form, null);
      replace(secret, tokenBox(r.name, r.token));
      name.value = '';
      address.value = '';
      refresh();
    } catch (e) {
      if (!fieldError(form, e, api.errorText(e))) toast(api.errorText(e), true);
    }
  });
  return form;
}

export async function branchesPage(main) {
  const box = slot();
  const secret = slot();
  const refresh = async () => {
    try {
      const r = await api.get('/branches');
      replace(box, table([
        {label: 'Branch', render: (b) => h('a', {href: `#/branches/${api.seg(b.name)}`}, h('strong', null, b.name))},
        {label: 'Address', render: (b) => h('span.mono.break', null, b.address)},
        {label: 'Last report', render: reportAge},
        {label: 'Loads', render: holdingsSummary},
        {label: 'Version', render: (b) => (b.last_report && b.last_report.version) || '—'},
        {label: '', render: (b) => branchActions(b, refresh)},
      ], r.branches || [], {empty: 'No branches: phones fetch firmware from this server or the load servers named in settings.'}));
    } catch (e) {
      replace(box, alertBox('bad', api.errorText(e)));
    }
  };
  main.append(pageHead('Branches', 'Load servers that report what they hold. A phone is sent to its branch only when the branch holds its load complete.'),
    api.isAdmin() ? card('Add a branch', addForm(secret, refresh), secret) : null, card('Registered branches', box));
  replace(box, loading());
  await refresh();
  return null;
}

function eta(x) {
  if (x.state !== 'staging') return '—';
  return x.eta_s === null || x.eta_s === undefined ? 'unknown' : fmtDuration(x.eta_s);
}

function holdingProgress(x) {
  // percent: rounded to the nearest, 100 only when all is there (the server's).
  return h('div', null, h('progress', {max: 100, value: x.percent, 'aria-label': `${x.percent}%`}),
    h('div.small.muted', null, `${x.percent}% · ${x.files_have} of ${x.files_total} files · ${fmtBytes(x.bytes_have)} of ${fmtBytes(x.bytes_total)}`));
}

export async function branchPage(main, [name]) {
  const box = slot();
  const refresh = async () => {
    const b = await api.get(`/branches/${api.seg(name)}`);
    const r = b.last_report;
    replace(box,
      h('dl.kv', null,
        h('dt', null, 'Address'), h('dd.mono', null, b.address),
        h('dt', null, 'Last report'), h('dd', null, reportAge(b), r ? ` (${fmtTime(r.received_at)})` : ''),
        h('dt', null, 'Version'), h('dd', null, (r && r.version) || '—'),
        h('dt', null, 'Free space'), h('dd', null, r ? fmtBytes(r.free_bytes) : '—'),
        h('dt', null, 'Must hold'), h('dd', {id: 'branch-want'}, (b.want || []).length
          ? h('span.mono.break', null, b.want.join(' ')) : 'nothing: no device\'s load server is this branch'),
        h('dt', null, 'Added'), h('dd', null, fmtTime(b.created_at))),
      api.isAdmin() ? h('div.actions', null, branchActions(b, () => { location.hash = '#/branches'; })) : null,
      h('h2', null, 'Holdings'),
      table([
        {label: 'Load', render: (x) => h('span.mono.break', null, x.name)},
        {label: 'State', render: (x) => badge(x.state, STATE_CLASS[x.state])},
        {label: 'Progress', render: holdingProgress},
        {label: 'ETA', num: true, render: eta},
      ], b.loads || [], {empty: r ? 'The branch holds no load.' : 'The branch has not reported yet.'}));
  };
  main.append(pageHead(`Branch ${name}`, 'What the branch said it holds in its latest report, and what it must hold.',
    h('a.btn', {href: '#/branches'}, 'All branches')), h('section.card', null, box));
  replace(box, loading());
  try {
    await refresh();
  } catch (e) {
    replace(box, alertBox('bad', api.errorText(e)));
    return null;
  }
  const timer = setInterval(() => refresh().catch(() => {}), 10000);
  return () => clearInterval(timer);
}
