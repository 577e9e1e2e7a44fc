// dom.js: builds DOM nodes and small widgets (badges, tables, dialogs,
// toasts) from data. Text goes in through textContent or text nodes only:
// nothing here ever assigns innerHTML, so data can never become markup.

// h('tag.class', {attr: v, on: {click: fn}}, ...children)
export function h(spec, props, ...children) {
  const [tag, ...classes] = spec.split('.');
  const el = document.createElement(tag || 'div');
  if (classes.length) el.className = classes.join(' ');
  if (props) {
    for (const [k, v] of Object.entries(props)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'on') {
        for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
      } else if (k === 'class') {
        el.className = [el.className, v].filter(Boolean).join(' ');
      } else if (k === 'dataset') {
        Object.assign(el.dataset, v);
      } else if (k === 'value' || k === 'checked' || k === 'selected' || k === 'disabled' ||
                 k === 'indeterminate') {
        el[k] = v;
      } else if (v === true) {
        el.setAttribute(k, '');
      } else {
        el.setAttribute(k, String(v));
      }
    }
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

let uid = 0;
export function nextId(prefix) {
  uid += 1;
  return `${prefix || 'f'}-${uid}`;
}

// ---- formatting ----

export function fmtBytes(n) {
  if (n === null || n === undefined || Number.isNaN(Number(n))) return '—';
  let v = Number(n);
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i += 1; }
  return `${i === 0 ? v : v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`;
}

export function fmtRate(bps) {
  if (!bps && bps !== 0) return '—';
  return `${fmtBytes(bps)}/s`;
}

// ISO 8601 in UTC, to the second ("2026-12-05T06:19:47Z"): the same text on
// every page, in the audit log and in loadsctl's output.
export function fmtTime(unix) {
  if (!unix) return '—';
  const d = new Date(Number(unix) * 1000);
  if (Number.isNaN(d.getTime())) return '—';
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function fmtDuration(s) {
  s = Math.max(0, Math.floor(Number(s) || 0));
  const d = Math.floor(s / 86400), hh = Math.floor((s % 86400) / 3600), mm = Math.floor((s % 3600) / 60);
  if (d) return `${d} d ${hh} h`;
  if (hh) return `${hh} h ${mm} min`;
  if (mm) return `${mm} min ${s % 60} s`;
  return `${s} s`;
}

export function fmtMac(mac) {
  return String(mac || '');
}

// ---- badges: colour and text together ----

const STATUS_CLASS = {
  verified: 'badge-ok', signed: 'badge-signed', unsigned: 'badge-warn', quarantined: 'badge-bad',
  partial: 'badge-warn', invalid: 'badge-bad', bad: 'badge-bad', none: 'badge-warn', blocked: 'badge-bad',
  ok: 'badge-ok', done: 'badge-ok', running: 'badge-info', queued: 'badge-neutral',
  failed: 'badge-bad', missing: 'badge-bad', active: 'badge-info', admin: 'badge-info',
  viewer: 'badge-neutral', vendor: 'badge-info', approval: 'badge-ok', disabled: 'badge-neutral',
};

export function badge(text, cls) {
  const t = String(text ?? '');
  return h(`span.badge.${cls || STATUS_CLASS[t.toLowerCase()] || 'badge-neutral'}`, null, t);
}

export function statusBadge(status) {
  return badge(status || 'unknown');
}

// "off — from profile": the value and the level it comes from, as one badge.
export function levelBadge(value, level) {
  const lvl = String(level || 'none');
  const shown = value === '' || value === null || value === undefined ? 'none' : String(value);
  const text = lvl === 'none' ? `${shown} — set nowhere` : `${shown} — from ${lvl}`;
  const cls = `badge-level lvl-${lvl.replace(/[^a-z]+/g, '-')}`;
  return h(`span.badge.${cls.split(' ').join('.')}`, {title: `value set at the ${lvl} level`}, text);
}

// ---- tables ----

// columns: [{label, render(row) -> node|string, num, cls}]
export function table(columns, rows, opts = {}) {
  const thead = h('thead', null, h('tr', null, columns.map((c) =>
    h(`th${c.num ? '.num' : ''}`, {scope: 'col'}, c.label))));
  const tbody = h('tbody');
  if (!rows || rows.length === 0) {
    tbody.append(h('tr', null, h('td.empty', {colspan: columns.length}, opts.empty || 'Nothing here yet.')));
  } else {
    for (const r of rows) {
      tbody.append(h('tr', null, columns.map((c) => {
        const v = c.render ? c.render(r) : r[c.key];
        return h(`td${c.num ? '.num' : ''}${c.cls ? '.' + c.cls : ''}`, {'data-label': c.label},
          v === undefined || v === null || v === '' ? (c.blank ?? '—') : v);
      })));
    }
  }
  const t = h(`table${opts.stack === false ? '' : '.stack'}`, null,
    opts.caption ? h('caption.sr-only', null, opts.caption) : null, thead, tbody);
  return h('div.table-wrap', null, t);
}

// ---- fields ----

export function field(label, control, hint) {
  if (!control.id) control.id = nextId('in');
  return h('div.field', null,
    h('label', {for: control.id}, label, hint ? h('span.hint', null, ` ${hint}`) : null),
    control);
}

export function select(options, value, props = {}) {
  const s = h('select', props);
  for (const o of options) {
    const [v, label] = Array.isArray(o) ? o : [o, o];
    s.append(h('option', {value: v, selected: String(v) === String(value ?? '')}, label));
  }
  return s;
}

export function alertBox(kind, ...children) {
  return h(`div.alert.alert-${kind}`, {role: kind === 'bad' ? 'alert' : 'status'}, ...children);
}

// ---- toasts ----

// One place, one message: a new toast replaces the one shown, so a burst
// of saves never piles up a column of them.
let toastTimer = null;
export function toast(message, bad) {
  const box = document.getElementById('toasts');
  if (!box) return;
  clear(box);
  clearTimeout(toastTimer);
  const t = h(`div.toast${bad ? '.bad' : ''}`, {role: bad ? 'alert' : 'status'}, message);
  box.append(t);
  toastTimer = setTimeout(() => t.remove(), bad ? 7000 : 3500);
}

// ---- busy buttons and field errors ----

// busy(button, promiseFn): the button is disabled and says it works while
// the call runs (aria-busy), then back as it was; returns the call's result.
export async function busy(btn, fn) {
  const was = btn.disabled;
  const label = btn.textContent;
  btn.disabled = true;
  btn.setAttribute('aria-busy', 'true');
  btn.classList.add('busy');
  try {
    return await fn();
  } finally {
    btn.disabled = was;
    btn.textContent = label;
    btn.removeAttribute('aria-busy');
    btn.classList.remove('busy');
  }
}

// Shows an API error under the field it names (err.field matched against
// the controls' name attributes in form); false when no field matched.
export function fieldError(form, err, text) {
  for (const old of form.querySelectorAll('.field-error')) old.remove();
  for (const c of form.querySelectorAll('[aria-invalid]')) c.removeAttribute('aria-invalid');
  if (!err || !err.field) return false;
  const control = form.querySelector(`[name="${CSS.escape(err.field)}"]`);
  if (!control) return false;
  const id = nextId('err');
  control.setAttribute('aria-invalid', 'true');
  control.setAttribute('aria-describedby', id);
  control.insertAdjacentElement('afterend', h('div.field-error', {id, role: 'alert'}, text));
  control.focus();
  return true;
}

// ---- dialogs ----

// confirmDialog({title, message, confirm, danger, checkbox}) -> Promise of
// null (cancelled) or {checked}.
export function confirmDialog(opts) {
  return new Promise((resolve) => {
    const box = opts.checkbox ? h('input', {type: 'checkbox', id: nextId('chk')}) : null;
    const ok = h(`button.btn.${opts.danger ? 'btn-danger-solid' : 'btn-primary'}`,
      {type: 'submit', value: 'ok'}, opts.confirm || 'OK');
    const cancel = h('button.btn', {type: 'button'}, 'Cancel');
    const form = h('form', {method: 'dialog'},
      h('h2', null, opts.title || 'Are you sure?'),
      opts.message ? h('p', null, opts.message) : null,
      box ? h('p', null, box, ' ', h('label', {for: box.id}, opts.checkbox)) : null,
      h('div.actions', null, ok, cancel));
    const dlg = h('dialog', {'aria-label': opts.title || 'Confirm'}, form);
    let result = null;
    form.addEventListener('submit', () => { result = {checked: box ? box.checked : false}; });
    cancel.addEventListener('click', () => dlg.close());
    dlg.addEventListener('close', () => { dlg.remove(); resolve(result); });
    document.body.append(dlg);
    dlg.showModal();
    cancel.focus();
  });
}

export function pageHead(title, sub, ...actions) {
  return h('div.page-head', null,
    h('div', null, h('h1', null, title), sub ? h('p.muted', null, sub) : null),
    actions.length ? h('div.actions', null, actions) : null);
}

export function card(title, ...children) {
  return h('section.card', null, title ? h('h2', null, title) : null, ...children);
}

export function loading(text) {
  return h('p.muted.spinner-text', null, text || 'Loading');
}

// Keeps an element's text live: a spot on the page a refresh can replace.
export function slot() {
  return h('div');
}

export function replace(slotEl, ...children) {
  clear(slotEl);
  append(slotEl, children);
  return slotEl;
}
