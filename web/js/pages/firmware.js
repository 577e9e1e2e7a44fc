// firmware.js: the Firmware pages: bundle upload (drag and drop or picker)
// with the upload's progress, then the import job's progress and report;
// the loads table; on a branch, staging loads from the upstream with each
// pull's progress; one load's files, signer, approval and users, verify
// now and remove. Shows server data through dom.js only.

import * as api from '../api.js';
import {h, card, pageHead, table, statusBadge, badge, fmtBytes, fmtRate, fmtTime, fmtDuration,
  alertBox, replace, slot, field, toast, confirmDialog, loading, clear} from '../dom.js';

const JOB_POLL_MS = 400;
const STAGE_POLL_MS = 2000;

function jobIdOf(resp) {
  if (!resp || typeof resp !== 'object') return null;
  return resp.id ?? resp.job_id ?? (resp.job && (resp.job.id ?? resp.job));
}

function pct(a, b) {
  return b > 0 ? Math.max(0, Math.min(100, Math.round((100 * a) / b))) : 0;
}

// How a device comes to a load (GET /loads/{name} used_by.devices[].via).
const USED_VIA = {device: 'assigned to the device', model_default: "through its model's default", held_back: 'held on it: its own load is not served'};

function usedByCounts(users) {
  const c = users.counts || {};
  if (!users.devices_total) return 'none';
  const parts = [['device', 'assigned directly'], ['model_default', "through their model's default"], ['held_back', 'held back on it']]
    .filter(([k]) => c[k]).map(([k, words]) => `${c[k]} ${words}`);
  return `${users.devices_total} in all: ${parts.join(', ')}`;
}

// The devices of the models whose default this load is that run another
// load: assigned one of their own, or held back on an older one.
function offDefaultCard(users) {
  const off = users.off_default || [];
  if (!users.models || users.models.length === 0) return null;
  return card(`Not on their model's default (${users.off_default_total ?? off.length})`,
    h('p.small.muted', null, `Devices of ${users.models.join(', ')} that run another load.`),
    h('div', {id: 'off-default'}, table([
      {label: 'Device', render: (d) => h('a.mono', {href: `#/devices/${encodeURIComponent(d.mac)}`}, `SEP${d.mac}`)},
      {label: 'Model', key: 'model'},
      {label: 'Runs', render: (d) => h('a.mono.break', {href: `#/loads/${encodeURIComponent(d.runs)}`}, d.runs)},
      {label: 'Why', render: (d) => d.via === 'device' ? 'a load of its own' : 'held back: its load is not served'},
    ], off, {empty: 'None: every device of these models runs this load.'})));
}

// ---- the import report: loads, changes, problems per file ----

function problemList(items, kind) {
  if (!items || items.length === 0) return null;
  return alertBox(kind, h('strong', null, kind === 'bad' ? 'Problems' : 'Warnings'),
    h('ul', null, items.map((p) => h('li', null,
      p.file ? [h('span.mono.break', null, p.file), ': '] : null,
      String(p.message ?? p.detail ?? p.problem ?? JSON.stringify(p))))));
}

export function reportView(report) {
  if (!report || typeof report !== 'object') return null;
  const loads = report.loads || [];
  const changes = report.changes || [];
  const out = h('div.report');
  if (loads.length) {
    out.append(h('h3', null, 'Imported'), table([
      {label: 'Load', render: (l) => h('a.mono', {href: `#/loads/${encodeURIComponent(l.name)}`}, l.name)},
      {label: 'Status', render: (l) => statusBadge(l.status)},
      {label: 'Components', num: true, render: (l) => String((l.components || []).length || l.files || 0)},
    ], loads));
  }
  if (changes.length) {
    out.append(h('details', null, h('summary', null, `${changes.length} file change(s)`),
      h('ul.small', null, changes.map((c) => h('li', null, `${c.change || ''} `, h('span.mono.break', null, c.file || ''))))));
  }
  out.append(problemList(report.problems, 'bad') || '', problemList(report.warnings, 'warn') || '');
  if (!loads.length && !(report.problems || []).length && !changes.length) {
    out.append(h('p.muted', null, 'The import report is empty.'));
  }
  return out;
}

// ---- upload ----

function progressBlock(label, id) {
  const bar = h('progress', {max: 100, value: 0, id, 'aria-label': label});
  const left = h('span', null, label);
  const right = h('span.muted', null, '');
  return {el: h('div.progress-block', null, h('div.progress-label', null, left, right), bar), bar, left, right};
}

function uploadCard(onDone) {
  const fileIn = h('input', {type: 'file', id: 'bundle-file', name: 'file',
    accept: '.zip,.tar,.tgz,.gz,.sgn,.cop,.tar.gz'});
  const apprIn = h('input', {type: 'file', id: 'approval-file', name: 'approval', accept: '.p7s,.sig,.der,.pem'});
  const replaceBox = h('input', {type: 'checkbox', id: 'upload-replace'});
  const chosen = h('div.file-name', {'aria-live': 'polite'}, 'No bundle chosen');
  const zone = h('div.dropzone', {id: 'dropzone'},
    h('div', null, h('strong', null, 'Drop a firmware bundle here'), h('span.muted', null, ' or choose it:')),
    h('label.sr-only', {for: 'bundle-file'}, 'Firmware bundle'), fileIn, chosen,
    h('div.small.muted', null, 'zip, tar, tgz, a COP file or a single signed file.'));
  const submit = h('button.btn.btn-primary', {type: 'submit', id: 'upload-submit'}, 'Upload and import');
  const status = slot();
  let picked = null;

  const choose = (f) => {
    picked = f || null;
    chosen.textContent = picked ? `${picked.name} (${fmtBytes(picked.size)})` : 'No bundle chosen';
  };
  fileIn.addEventListener('change', () => choose(fileIn.files[0]));
  for (const ev of ['dragenter', 'dragover']) {
    zone.addEventListener(ev, (e) => { e.preventDefault(); zone.classList.add('dragover'); });
  }
  for (const ev of ['dragleave', 'drop']) {
    zone.addEventListener(ev, (e) => { e.preventDefault(); zone.classList.remove('dragover'); });
  }
  zone.addEventListener('drop', (e) => {
    const f = e.dataTransfer && e.dataTransfer.files && e.dataTransfer.files[0];
    if (f) choose(f);
  });

  const form = h('form', {id: 'upload-form', 'aria-label': 'Upload firmware'}, zone,
    h('div.form-grid', null, field('Approval signature', apprIn, '(optional, detached CMS)'),
      h('div.field', null, h('span', null, 'Existing loads'),
        h('span.small', null, replaceBox, ' ', h('label', {for: 'upload-replace'}, 'replace a load of the same name')))),
    h('div.actions', null, submit), status);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!picked) {
      replace(status, alertBox('bad', 'Choose a bundle first.'));
      fileIn.focus();
      return;
    }
    submit.disabled = true;
    const up = progressBlock('Uploading', 'upload-progress');
    const imp = progressBlock('Import', 'import-progress');
    imp.el.hidden = true;
    const result = slot();
    result.id = 'upload-result';
    replace(status, up.el, imp.el, result);
    const t0 = performance.now();
    try {
      const job = api.upload(picked, apprIn.files[0], replaceBox.checked, (loaded, total) => {
        const p = pct(loaded, total);
        up.bar.value = p;
        const secs = (performance.now() - t0) / 1000;
        up.right.textContent = `${p}% · ${fmtBytes(loaded)} of ${fmtBytes(total)}` +
          (secs > 0.5 ? ` · ${fmtBytes(loaded / secs)}/s` : '');
      });
      const resp = await job.promise;
      up.bar.value = 100;
      up.bar.classList.add('done');
      up.left.textContent = 'Uploaded';
      imp.el.hidden = false;
      const id = jobIdOf(resp);
      const final = id !== null && id !== undefined ? await followJob(id, imp) : resp;
      showResult(result, final);
      onDone();
    } catch (e) {
      up.bar.classList.add('failed');
      replace(result, alertBox('bad', `Upload failed: ${api.errorText(e)}`));
    } finally {
      submit.disabled = false;
    }
  });
  return card('Upload firmware', form);
}

// The job's progress as loadsd reports it: a phase, bytes read while the
// files are stored and hashed, files checked, and an overall percent.
function jobProgress(job) {
  const p = job.progress || {};
  const parts = [];
  if (p.phase) parts.push(String(p.phase));
  if (p.bytes_read !== undefined) parts.push(`${fmtBytes(p.bytes_read)}${p.bundle_size ? ' of ' + fmtBytes(p.bundle_size) : ''} hashed`);
  if (p.files_total) parts.push(`${p.files_checked ?? 0} of ${p.files_total} files checked`);
  else if (p.files_stored) parts.push(`${p.files_stored} files stored`);
  let value = null;
  if (p.percent !== undefined && p.percent !== null) value = Number(p.percent);
  else if (p.bundle_size) value = pct(p.bytes_read || 0, p.bundle_size);
  if (value !== null) parts.unshift(`${Math.round(value)}%`);
  return {value, text: parts.join(' · ')};
}

async function followJob(id, imp) {
  for (;;) {
    const job = await api.get(`/jobs/${api.seg(id)}`);
    const state = job.state || 'queued';
    const {value, text} = jobProgress(job);
    imp.left.textContent = `Import: ${state}`;
    imp.right.textContent = text;
    if (state === 'done' || state === 'failed') {
      imp.bar.value = 100;
      imp.bar.classList.add(state === 'done' ? 'done' : 'failed');
      return job;
    }
    if (value !== null) imp.bar.value = value;
    else imp.bar.removeAttribute('value');
    await new Promise((r) => setTimeout(r, JOB_POLL_MS));
  }
}

function showResult(box, job) {
  if (!job || typeof job !== 'object') {
    replace(box, alertBox('ok', 'Uploaded.'));
    return;
  }
  const report = job.report || (job.loads || job.problems ? job : null);
  const ok = (job.state ? job.state === 'done' : true) && !(report && report.ok === false);
  replace(box,
    ok ? alertBox('ok', 'Import finished.')
      : alertBox('bad', `Import failed${job.error || job.detail ? ': ' + (job.error || job.detail) : '.'}`),
    reportView(report));
}

// ---- loads table ----

// Where a load came from, in words: its import's source.
function originText(origin) {
  if (!origin) return '—';
  if (origin.startsWith('upstream ')) return `pulled from ${origin.slice(9)}`;
  return `bundle ${origin}`;
}

// usage (GET /loads): {name: {devices, off_default}}: the devices whose
// config names each load, and those of the models defaulting to it that run
// another one.
function loadsTable(loads, usage) {
  const u = (l) => (usage && usage[l.name]) || {devices: 0, off_default: 0};
  return table([
    {label: 'Load', render: (l) => h('a.mono', {href: `#/loads/${encodeURIComponent(l.name)}`}, l.name)},
    {label: 'Status', render: (l) => statusBadge(l.status)},
    {label: 'Devices on it', num: true, render: (l) => String(u(l).devices)},
    {label: 'Off the default', num: true, render: (l) => u(l).off_default
      ? h('a', {href: `#/loads/${encodeURIComponent(l.name)}`, title: "devices of the models defaulting to this load that run another one"}, String(u(l).off_default))
      : '0'},
    {label: 'Signer', render: (l) => h('span.break', null, l.signer || '—')},
    {label: 'Approved by', render: (l) => h('span.break', null, l.approved_by || '—')},
    {label: 'Files', num: true, render: (l) => String(l.files ?? '—')},
    {label: 'Size', num: true, render: (l) => fmtBytes(l.size)},
    {label: 'Origin', render: (l) => h('span.break', null, originText(l.origin))},
    {label: 'Imported', render: (l) => h('span.nowrap', null, fmtTime(l.created_at))},
  ], loads, {empty: 'No loads yet: upload a bundle above.', caption: 'Loads'});
}

function jobsTable(jobs) {
  return table([
    {label: 'Job', render: (j) => `#${j.id}`},
    {label: 'File', render: (j) => h('span.mono.break', null, j.source || j.filename || '—')},
    {label: 'State', render: (j) => {
      const s = j.summary;
      if (j.state === 'done' && s && s.ok === false) return badge('refused', 'badge-bad');
      return statusBadge(j.state);
    }},
    {label: 'By', render: (j) => j.actor || '—'},
    {label: 'Size', num: true, render: (j) => fmtBytes(j.size)},
    {label: 'Started', render: (j) => h('span.nowrap', null, fmtTime(j.created_at))},
    {label: 'Result', render: (j) => {
      const s = j.summary;
      if (!s) return j.progress && j.progress.percent !== undefined ? `${j.progress.percent}%` : '—';
      const names = (s.loads || []).filter(Boolean);
      return h('span.break', null, names.length ? names.join(', ') : 'no load',
        s.problems ? h('span.muted', null, ` · ${s.problems} problem(s)`) : null);
    }},
  ], jobs, {empty: 'No uploads yet.'});
}

// ---- staging from the upstream (a branch) ----

function stageTable(entries) {
  return table([
    {label: 'Load', render: (e) => h('span.mono.break', null, e.load)},
    {label: 'State', render: (e) => h('span', null, statusBadge(e.state), e.staged ? '' : ' (a phone asked)')},
    {label: 'Files', num: true, render: (e) => `${e.files_done}/${e.files_total}`},
    {label: 'Bytes', num: true, render: (e) => `${fmtBytes(e.bytes_done)} of ${fmtBytes(e.bytes_total)}`},
    {label: 'Rate', num: true, render: (e) => (e.started ? fmtRate(e.rate) : '—')},
    {label: 'ETA', num: true, render: (e) => (e.eta_s === null ? '—' : fmtDuration(e.eta_s))},
    {label: 'Why', render: (e) => h('span.break', null, e.why || '')},
  ], entries, {empty: 'Nothing staged or pulled yet.', caption: 'Pulls from the upstream'});
}

function stageCard(onDone) {
  const box = slot();
  const nameIn = h('input', {type: 'text', id: 'stage-load', name: 'load', placeholder: 'SIP78xx.14-2-1-0101-33',
    required: true, maxlength: 249, autocomplete: 'off', spellcheck: 'false'});
  const submit = h('button.btn', {type: 'submit', id: 'stage-submit'}, 'Stage');
  const note = slot();
  const head = h('span.small.muted');
  const central = h('p.small', {id: 'stage-central', hidden: true});
  const el = h('section.card', {id: 'stage-card'}, h('div.card-head', null, h('h2', null, 'Stage from upstream'), head),
    central, api.isAdmin() ? h('form.inline', {id: 'stage-form'}, field('Load', nameIn), submit) : null, note, box);
  let timer = null;
  let busy = false;
  const poll = async () => {
    timer = null;
    if (!document.body.contains(el)) return;
    let r;
    try {
      r = await api.get('/stage');
    } catch (e) {
      replace(box, alertBox('bad', api.errorText(e)));
      return;
    }
    // A branch's reports to its central: "central: URL, last report 12 s ago, ok".
    central.textContent = r.central ? r.central.summary : '';
    central.hidden = !r.central;
    if (!r.upstream) { el.hidden = !r.central; return; }
    el.hidden = false;
    head.textContent = `from ${r.upstream}` + (r.stage_rate_kbit ? `, at most ${r.stage_rate_kbit} kbit/s` : '') +
      (r.stage_window ? `, starting ${r.stage_window}` : '');
    const entries = r.entries || [];
    replace(box, stageTable(entries));
    const wasBusy = busy;
    busy = entries.some((e) => e.state === 'queued' || e.state === 'running');
    if (busy) {
      timer = setTimeout(poll, STAGE_POLL_MS);
    } else if (wasBusy && onDone) {
      onDone(); // a pull ended: the loads table shows the imported load
    }
  };
  el.hidden = true;
  const form = el.querySelector('#stage-form');
  if (form) {
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      submit.disabled = true;
      try {
        const e = await api.post('/stage', {load: nameIn.value.trim()});
        replace(note, alertBox('ok', `Staging ${e.load}: ${e.state}${e.why ? ` (${e.why})` : ''}.`));
        nameIn.value = '';
      } catch (e) {
        replace(note, alertBox('bad', api.errorText(e)));
      } finally {
        submit.disabled = false;
      }
      if (timer) clearTimeout(timer);
      poll();
    });
  }
  // The first poll once the card is on the page (the caller appends it
  // after this returns; a poll of a card not on the page stops polling).
  timer = setTimeout(poll, 0);
  return el;
}

export async function firmwarePage(main) {
  const loadsBox = slot();
  const jobsBox = slot();
  const refresh = async () => {
    try {
      const r = await api.get('/loads');
      replace(loadsBox, loadsTable(r.loads || [], r.usage));
    } catch (e) {
      replace(loadsBox, alertBox('bad', api.errorText(e)));
    }
    try {
      const j = await api.get('/jobs');
      replace(jobsBox, jobsTable((j.jobs || []).slice(0, 10)));
    } catch (e) {
      replace(jobsBox, h('p.muted', null, `Job history unavailable: ${api.errorText(e)}`));
    }
  };
  main.append(pageHead('Firmware', 'Upload bundles; every load with its verification status.'),
    api.isAdmin() ? uploadCard(refresh) : alertBox('info', 'Viewers cannot upload firmware.'),
    h('section.card', null, h('div.card-head', null, h('h2', null, 'Loads'),
      h('span.small.muted', null, 'verified: every file checked against the trust store; signed: signer not trusted; partial: a file has no signature; invalid or quarantined: never served')),
    loadsBox),
    stageCard(refresh),
    card('Recent uploads', jobsBox));
  replace(loadsBox, loading());
  await refresh();
  return null;
}

// ---- one load ----

export async function loadPage(main, [name]) {
  main.append(h('p.crumb', null, h('a', {href: '#/firmware'}, '← Firmware')), loading());
  let l;
  try {
    l = await api.get(`/loads/${api.seg(name)}`);
  } catch (e) {
    clear(main);
    main.append(h('p.crumb', null, h('a', {href: '#/firmware'}, '← Firmware')),
      alertBox('bad', e.status === 404 ? `No load named ${name}.` : api.errorText(e)));
    return null;
  }
  const users = l.used_by || {models: [], devices: [], devices_total: 0, counts: {}};
  const verifyBox = slot();
  const verifyBtn = h('button.btn', {type: 'button', id: 'verify-now'}, 'Verify now');
  const removeBtn = h('button.btn.btn-danger', {type: 'button', id: 'remove-load'}, 'Remove…');
  verifyBtn.addEventListener('click', async () => {
    verifyBtn.disabled = true;
    replace(verifyBox, loading('Checking every file against its SHA-256'));
    try {
      const r = await api.post(`/loads/${api.seg(name)}/verify`, {});
      replace(verifyBox,
        alertBox(r.quarantined || r.already_quarantined ? 'bad' : 'ok',
          `${r.checked} file(s) checked, ${r.ok} match, ${r.quarantined} newly quarantined, ` +
          `${r.already_quarantined} already quarantined (${fmtBytes(r.bytes)} hashed). ` +
          (r.load ? `Status now: ${r.load.status}${r.load.served ? '' : ' (not served)'}.` : '')),
        table([
          {label: 'File', render: (f) => h('span.mono.break', null, f.name)},
          {label: 'Result', render: (f) => badge(f.result.replace(/_/g, ' '), f.result === 'ok' ? 'badge-ok' : 'badge-bad')},
        ], r.files || []));
    } catch (e) {
      replace(verifyBox, alertBox('bad', api.errorText(e)));
    } finally {
      verifyBtn.disabled = false;
    }
  });
  removeBtn.addEventListener('click', async () => {
    const inUse = users.models.length > 0 || users.devices.length > 0;
    const ans = await confirmDialog({
      title: `Remove ${name}?`,
      message: inUse
        ? `This load is used by ${users.models.length} model default(s) and ${users.devices.length} device(s). Phones assigned to it will no longer find their firmware.`
        : 'Its files are no longer served once removed. This cannot be undone.',
      confirm: 'Remove', danger: true,
      checkbox: inUse ? 'Remove it even though it is in use (force)' : null,
    });
    if (!ans) return;
    try {
      await api.del(`/loads/${api.seg(name)}${ans.checked ? '?force=1' : ''}`);
      toast(`Removed ${name}`);
      location.hash = '#/firmware';
    } catch (e) {
      if (e.status === 409) {
        const again = await confirmDialog({title: `${name} is in use`, message: `${api.errorText(e)} Remove it anyway?`,
          confirm: 'Force remove', danger: true});
        if (again) {
          try {
            await api.del(`/loads/${api.seg(name)}?force=1`);
            toast(`Removed ${name}`);
            location.hash = '#/firmware';
          } catch (e2) {
            toast(api.errorText(e2), true);
          }
        }
      } else {
        toast(api.errorText(e), true);
      }
    }
  });
  const files = l.file_list || [];
  replace(main,
    h('p.crumb', null, h('a', {href: '#/firmware'}, '← Firmware')),
    pageHead(l.name, null, statusBadge(l.status), api.isAdmin() ? verifyBtn : null, api.isAdmin() ? removeBtn : null),
    l.status === 'quarantined'
      ? alertBox('bad', `A stored file of this load (${l.weakest_file || 'one of its files'}) no longer matches its SHA-256: the load is not served.`) : null,
    l.status !== 'quarantined' && l.served === false
      ? alertBox('bad', `Not served: the load is ${l.status}${l.weakest_file ? ` (file ${l.weakest_file})` : ''} and the signature policy is "${l.policy}". Phones assigned to it are held back.`) : null,
    verifyBox,
    h('div.grid', null,
      card('Signature',
        h('dl.kv', null,
          h('dt', null, 'Status'), h('dd', null, statusBadge(l.status)),
          h('dt', null, 'Served'), h('dd', {id: 'load-served'}, l.served ? `yes (policy ${l.policy})` : `no (policy ${l.policy})`),
          h('dt', null, 'Weakest file'), h('dd.break', null, l.weakest_file || '—'),
          h('dt', null, 'Signature'), h('dd', null, l.signature || '—'),
          h('dt', null, 'Signer'), h('dd.break', null, l.signer || '—'),
          h('dt', null, 'Approved by'), h('dd.break', null, l.approved_by || 'no approval signature'),
          h('dt', null, 'Imported'), h('dd', null, fmtTime(l.created_at)),
          h('dt', null, 'Size'), h('dd', null, `${fmtBytes(l.size)} in ${l.files} file(s)`))),
      card('Used by',
        h('p.small.muted', null, 'Every device whose config names this load, and how it comes to it.'),
        h('dl.kv', {id: 'used-by'},
          h('dt', null, 'Model defaults'),
          h('dd', null, users.models.length ? users.models.join(', ') : 'none'),
          h('dt', null, 'Devices'),
          h('dd', {id: 'used-by-counts'}, usedByCounts(users)),
          users.devices.length ? [h('dt', null, 'Which'), h('dd', {id: 'used-by-devices'},
            users.devices.slice(0, 30).flatMap((d, i) => [i ? ', ' : '',
              h('a.mono', {href: `#/devices/${encodeURIComponent(d.mac)}`, title: USED_VIA[d.via] || d.via}, d.mac)]),
            users.devices_total > 30 ? h('div.small.muted', null, `… ${users.devices_total - 30} more`) : null)] : null))),
    offDefaultCard(users),
    card('Files', table([
      {label: 'File', render: (f) => h('span.mono.break', null, f.name)},
      {label: 'Size', num: true, render: (f) => fmtBytes(f.size)},
      {label: 'SHA-256', render: (f) => h('span.mono.break.small', null, f.sha256)},
      {label: 'Signature', render: (f) => statusBadge(f.signature || 'none')},
      {label: 'Status', render: (f) => statusBadge(f.status)},
    ], files)));
  return null;
}
