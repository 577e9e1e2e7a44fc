// api.js: the one way the page talks to loadsd: JSON over /api/v1 with the
// session cookie, the CSRF token on every write, uploads through
// XMLHttpRequest for progress. Holds the session in memory only (the token
// comes back from GET /api/v1/session after a reload); never stores passwords.

const BASE = '/api/v1';

const session = {user: null, role: null, csrf: null};
let unauthorizedHandler = null;

export function currentSession() {
  return session;
}

export function isAdmin() {
  return session.role === 'admin';
}

export function setSession(s) {
  session.user = s ? s.user : null;
  session.role = s ? s.role : null;
  session.csrf = s ? s.csrf_token || null : null;
}

export function onUnauthorized(fn) {
  unauthorizedHandler = fn;
}

export class ApiError extends Error {
  constructor(status, body) {
    const detail = body && typeof body === 'object' ? body.detail || body.error : body;
    super(detail ? String(detail) : `HTTP ${status}`);
    this.status = status;
    this.body = body && typeof body === 'object' ? body : {};
    this.code = this.body.error || '';
    this.field = this.body.field || '';
  }
}

// Whether text names word as a word of its own ("load_server is …").
function mentions(text, word) {
  const isWord = (c) => c !== undefined && /[A-Za-z0-9_]/.test(c);
  for (let i = text.indexOf(word); i >= 0; i = text.indexOf(word, i + 1)) {
    if (!isWord(text[i - 1]) && !isWord(text[i + word.length])) return true;
  }
  return false;
}

// A short human text for an error, naming the field when there is one.
export function errorText(err) {
  if (err instanceof ApiError) {
    if (err.status === 403 && err.code === 'forbidden') return 'Your role may only read: ask an admin.';
    if (err.status === 403 && err.code === 'csrf') return 'Your session token is stale: log in again.';
    // The field once: "cidr: not an address", but "load_server is a host …" as it is.
    const named = err.field && mentions(err.message, err.field);
    const f = err.field && !named ? `${err.field}: ` : '';
    return `${f}${err.message}`;
  }
  if (err && err.name === 'TypeError') return 'Cannot reach loadsd (network error).';
  return err && err.message ? err.message : String(err);
}

function writes(method) {
  return method !== 'GET' && method !== 'HEAD';
}

async function parseBody(resp) {
  const type = resp.headers.get('Content-Type') || '';
  if (type.includes('json')) {
    try {
      return await resp.json();
    } catch (e) {
      return null;
    }
  }
  return resp.text();
}

// request(method, path, body, {type, raw, quiet401}) -> parsed body.
export async function request(method, path, body, opts = {}) {
  const headers = {Accept: 'application/json'};
  let payload;
  if (body !== undefined && body !== null) {
    if (opts.type) {
      headers['Content-Type'] = opts.type;
      payload = body;
    } else {
      headers['Content-Type'] = 'application/json';
      payload = JSON.stringify(body);
    }
  }
  if (writes(method) && session.csrf) headers['X-CSRF-Token'] = session.csrf;
  const resp = await fetch(BASE + path, {
    method, headers, body: payload, credentials: 'same-origin', cache: 'no-store',
    redirect: 'error',
  });
  const data = await parseBody(resp);
  if (resp.status === 401 && !opts.quiet401 && unauthorizedHandler) unauthorizedHandler();
  if (!resp.ok) throw new ApiError(resp.status, data);
  return data;
}

export const get = (path, opts) => request('GET', path, null, opts);
export const post = (path, body, opts) => request('POST', path, body ?? {}, opts);
export const put = (path, body, opts) => request('PUT', path, body ?? {}, opts);
export const patch = (path, body, opts) => request('PATCH', path, body ?? {}, opts);
export const del = (path, opts) => request('DELETE', path, null, opts);

// One path segment, encoded (names may hold spaces: "Cisco 7961").
export function seg(s) {
  return encodeURIComponent(String(s));
}

export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

// upload(file, approval, replace, onProgress(loaded, total)) -> {promise, abort}.
// Multipart field "file" (and "approval" when given), as contracts.md says.
export function upload(file, approval, replace, onProgress) {
  const xhr = new XMLHttpRequest();
  const promise = new Promise((resolve, reject) => {
    const form = new FormData();
    form.append('file', file, file.name);
    if (approval) form.append('approval', approval, approval.name);
    xhr.open('POST', `${BASE}/uploads${replace ? '?replace=1' : ''}`);
    xhr.responseType = 'text';
    xhr.setRequestHeader('Accept', 'application/json');
    if (session.csrf) xhr.setRequestHeader('X-CSRF-Token', session.csrf);
    xhr.upload.addEventListener('progress', (ev) => {
      if (onProgress) onProgress(ev.loaded, ev.lengthComputable ? ev.total : file.size);
    });
    xhr.addEventListener('load', () => {
      let data = null;
      try {
        data = JSON.parse(xhr.responseText);
      } catch (e) {
        data = xhr.responseText;
      }
      if (xhr.status === 401 && unauthorizedHandler) unauthorizedHandler();
      if (xhr.status >= 200 && xhr.status < 300) resolve(data);
      else reject(new ApiError(xhr.status, data));
    });
    xhr.addEventListener('error', () => reject(new TypeError('network error')));
    xhr.addEventListener('abort', () => reject(new Error('upload cancelled')));
    xhr.send(form);
  });
  return {promise, abort: () => xhr.abort()};
}
