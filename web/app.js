// app.js: the admin page's entry point: session check, hash routing, the
// navigation and the login page. Pages live in js/pages/; each render()
// builds its DOM with dom.js and may return a cleanup function (timers).
// Never builds markup from strings.

import * as api from './js/api.js';
import {h, clear, field, alertBox, toast} from './js/dom.js';
import {dashboardPage} from './js/pages/dashboard.js';
import {firmwarePage, loadPage} from './js/pages/firmware.js';
import {defaultsPage, enterprisePage, profilesPage, sitesPage} from './js/pages/provisioning.js';
import {devicesPage, devicePage} from './js/pages/devices.js';
import {transfersPage, auditPage, usersPage, trustPage} from './js/pages/operations.js';
import {branchesPage, branchPage} from './js/pages/branches.js';
import {fleetPage} from './js/pages/fleet.js';

const routes = [
  {re: /^\/dashboard$/, page: dashboardPage, nav: '#/dashboard', title: 'Dashboard'},
  {re: /^\/firmware$/, page: firmwarePage, nav: '#/firmware', title: 'Firmware'},
  {re: /^\/loads\/(.+)$/, page: loadPage, nav: '#/firmware', title: 'Load'},
  {re: /^\/defaults$/, page: defaultsPage, nav: '#/defaults', title: 'Device defaults'},
  {re: /^\/enterprise$/, page: enterprisePage, nav: '#/enterprise', title: 'Enterprise'},
  {re: /^\/profiles$/, page: profilesPage, nav: '#/profiles', title: 'Phone profiles'},
  {re: /^\/sites$/, page: sitesPage, nav: '#/sites', title: 'Sites'},
  {re: /^\/branches$/, page: branchesPage, nav: '#/branches', title: 'Branches'},
  {re: /^\/branches\/([^/]+)$/, page: branchPage, nav: '#/branches', title: 'Branch'},
  {re: /^\/fleet$/, page: fleetPage, nav: '#/fleet', title: 'Fleet'},
  {re: /^\/devices$/, page: devicesPage, nav: '#/devices', title: 'Devices'},
  {re: /^\/devices\/([^/]+)$/, page: devicePage, nav: '#/devices', title: 'Device'},
  {re: /^\/transfers$/, page: transfersPage, nav: '#/transfers', title: 'Transfers'},
  {re: /^\/audit$/, page: auditPage, nav: '#/audit', title: 'Audit log'},
  {re: /^\/users$/, page: usersPage, nav: '#/users', title: 'Users & tokens'},
  {re: /^\/trust$/, page: trustPage, nav: '#/trust', title: 'Trust store'},
];

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const navToggle = document.getElementById('nav-toggle');
let cleanup = null;
let renderSeq = 0;

function runCleanup() {
  if (typeof cleanup === 'function') {
    try {
      cleanup();
    } catch (e) {
      /* a page's timer teardown must not stop navigation */
    }
  }
  cleanup = null;
}

function setChrome(loggedIn) {
  const s = api.currentSession();
  nav.hidden = !loggedIn;
  navToggle.hidden = !loggedIn;
  document.getElementById('topbar-user').hidden = !loggedIn;
  document.getElementById('who').textContent = loggedIn ? `${s.user} (${s.role})` : '';
}

function markNav(href) {
  for (const a of nav.querySelectorAll('a')) {
    if (a.getAttribute('href') === href) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

function closeNav() {
  nav.classList.remove('open');
  navToggle.setAttribute('aria-expanded', 'false');
}

function currentPath() {
  const raw = location.hash.replace(/^#/, '');
  return raw.startsWith('/') ? raw : '/dashboard';
}

async function route() {
  runCleanup();
  closeNav();
  const seq = ++renderSeq;
  if (!api.currentSession().user) {
    renderLogin();
    return;
  }
  const path = currentPath().split('?')[0];
  const r = routes.find((x) => x.re.test(path));
  if (!r) {
    location.replace('#/dashboard');
    return;
  }
  const params = path.match(r.re).slice(1).map((p) => {
    try {
      return decodeURIComponent(p);
    } catch (e) {
      return p;
    }
  });
  markNav(r.nav);
  document.title = `${r.title} · loadsd admin`;
  clear(main);
  try {
    const c = await r.page(main, params);
    if (seq === renderSeq) cleanup = c;
    else if (typeof c === 'function') c();
  } catch (e) {
    if (seq === renderSeq) {
      main.append(alertBox('bad', `Cannot show this page: ${api.errorText(e)}`));
    }
  }
  if (seq === renderSeq && document.activeElement === document.body) main.focus({preventScroll: true});
}

function renderLogin(message) {
  setChrome(false);
  document.title = 'Log in · loadsd admin';
  clear(main);
  const user = h('input', {name: 'user', autocomplete: 'username', required: true, autofocus: true,
    autocapitalize: 'none', spellcheck: 'false'});
  const pass = h('input', {name: 'password', type: 'password', autocomplete: 'current-password', required: true});
  const msg = h('div', {'aria-live': 'assertive'});
  if (message) msg.append(alertBox('info', message));
  const submit = h('button.btn.btn-primary', {type: 'submit'}, 'Log in');
  const form = h('form', {'aria-label': 'Log in', novalidate: false},
    field('User name', user), field('Password', pass), msg, submit);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clear(msg);
    submit.disabled = true;
    try {
      const s = await api.post('/session', {user: user.value, password: pass.value}, {quiet401: true});
      api.setSession(s);
      pass.value = '';
      setChrome(true);
      if (!location.hash || location.hash === '#/login') location.hash = '#/dashboard';
      else route();
    } catch (e) {
      const text = e.status === 401 ? 'Wrong user name or password.' : api.errorText(e);
      msg.append(alertBox('bad', text));
      pass.select();
    } finally {
      submit.disabled = false;
    }
  });
  main.append(h('div.login-wrap', null, h('section.card.login-card', null,
    h('h1', null, 'Log in to loadsd'),
    h('p.muted', null, 'Firmware loads and phone provisioning.'),
    form)));
  user.focus();
}

async function logout() {
  try {
    await api.del('/session', {quiet401: true});
  } catch (e) {
    /* the session may be gone already; log out locally anyway */
  }
  api.setSession(null);
  runCleanup();
  history.replaceState(null, '', '#/login'); // no hashchange: keep the message
  renderLogin('You are logged out.');
}

function sessionLost() {
  if (!api.currentSession().user) return;
  api.setSession(null);
  runCleanup();
  renderLogin('Your session has ended: please log in again.');
}

async function start() {
  api.onUnauthorized(sessionLost);
  document.getElementById('logout').addEventListener('click', logout);
  navToggle.addEventListener('click', () => {
    const open = !nav.classList.contains('open');
    nav.classList.toggle('open', open);
    navToggle.setAttribute('aria-expanded', String(open));
    if (open) nav.querySelector('a')?.focus();
  });
  document.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape' && nav.classList.contains('open')) {
      closeNav();
      navToggle.focus();
    }
  });
  window.addEventListener('hashchange', route);
  try {
    const s = await api.get('/session', {quiet401: true});
    api.setSession(s);
    setChrome(true);
  } catch (e) {
    api.setSession(null);
    if (!(e instanceof api.ApiError) || e.status !== 401) toast(api.errorText(e), true);
  }
  route();
}

start();
