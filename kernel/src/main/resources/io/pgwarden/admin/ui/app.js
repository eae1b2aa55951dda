// The admin page: plain DOM, no framework. Every value from the server goes in through
// textContent, never as markup, so a statement or a name cannot inject anything.
let csrf = null;

async function api(path, options = {}) {
  const headers = Object.assign({ 'Accept': 'application/json' }, options.headers || {});
  if (options.method && options.method !== 'GET') {
    headers['X-CSRF-Token'] = csrf;
    headers['Content-Type'] = 'application/json';
  }
  const response = await fetch(path, Object.assign({}, options, { headers, credentials: 'same-origin' }));
  if (response.status === 401) {
    location.href = '/login';
    throw new Error('not logged in');
  }
  const body = await response.json();
  if (!response.ok) {
    throw new Error(body.error || ('HTTP ' + response.status));
  }
  return body;
}

function cell(row, text, className) {
  const td = row.insertCell();
  td.textContent = text == null ? '' : String(text);
  if (className) td.className = className;
  return td;
}

function showError(e) {
  const p = document.getElementById('error');
  p.textContent = e.message;
  p.hidden = false;
}

// ---- approvals: the live inbox -------------------------------------------------------
const approvals = new Map();

function renderApproval(a) {
  approvals.set(a.id, a);
  const tbody = document.querySelector('#approvals-table tbody');
  let row = document.getElementById('approval-' + a.id);
  if (!row) {
    row = tbody.insertRow(0);
    row.id = 'approval-' + a.id;
  }
  row.replaceChildren();
  row.className = a.status;
  row.dataset.statement = a.statement;
  cell(row, a.id);
  cell(row, a.status, 'status');
  cell(row, a.identity);
  cell(row, a.statement, 'statement');
  cell(row, a.rule + ': ' + a.reason);
  cell(row, a.expires);
  const decision = row.insertCell();
  if (a.status === 'pending') {
    const reason = document.createElement('input');
    reason.placeholder = 'reason';
    reason.className = 'reason';
    const approve = document.createElement('button');
    approve.textContent = 'Approve';
    approve.className = 'approve';
    const deny = document.createElement('button');
    deny.textContent = 'Deny';
    deny.className = 'deny';
    const decide = (verb) => api('/api/approvals/' + encodeURIComponent(a.id) + '/' + verb,
      { method: 'POST', body: JSON.stringify({ reason: reason.value }) }).then(renderApproval, showError);
    approve.onclick = () => decide('approve');
    deny.onclick = () => decide('deny');
    decision.append(reason, ' ', approve, ' ', deny);
  } else {
    decision.textContent = (a.decided_by ? a.decided_by + ' via ' + a.decided_via : '')
      + (a.decision_reason ? ': ' + a.decision_reason : '');
  }
}

async function loadApprovals() {
  const body = await api('/api/approvals?all=true');
  body.approvals.forEach(renderApproval);
  const events = new EventSource('/api/approvals/events');
  events.addEventListener('approval', (e) => renderApproval(JSON.parse(e.data)));
  events.onopen = () => { document.getElementById('live').textContent = 'live'; };
  events.onerror = () => { document.getElementById('live').textContent = 'reconnecting…'; };
}

// ---- the other tabs ------------------------------------------------------------------
async function loadAudit(form) {
  const params = new URLSearchParams();
  for (const [k, v] of new FormData(form)) if (v) params.set(k, v);
  const body = await api('/api/audit?' + params);
  const tbody = document.querySelector('#audit-table tbody');
  tbody.replaceChildren();
  for (const e of body.events.slice().reverse()) {
    const row = tbody.insertRow();
    [e.time, e.kind, e.identity, e.session, e.statement, e.decision, e.reason, e.outcome]
      .forEach((v, i) => cell(row, v, i === 4 ? 'statement' : null));
  }
}

async function loadSessions() {
  const body = await api('/api/sessions');
  const tbody = document.querySelector('#sessions-table tbody');
  tbody.replaceChildren();
  for (const s of body.sessions) {
    const row = tbody.insertRow();
    [s.id, s.identity, s.client, s.database, s.policy, s.started].forEach((v) => cell(row, v));
    const kill = document.createElement('button');
    kill.textContent = 'Kill';
    kill.className = 'deny';
    kill.onclick = () => api('/api/sessions/' + encodeURIComponent(s.id), { method: 'DELETE' }).then(loadSessions, showError);
    row.insertCell().append(kill);
  }
}

async function loadPolicies() {
  const body = await api('/api/policies');
  document.getElementById('policies-json').textContent = JSON.stringify(body.policies, null, 2);
}

async function loadPlugins() {
  const body = await api('/api/plugins');
  const plugins = document.querySelector('#plugins-table tbody');
  plugins.replaceChildren();
  for (const p of body.plugins) {
    const row = plugins.insertRow();
    [p.id, p.version, p.state].forEach((v) => cell(row, v));
  }
  const instances = document.querySelector('#instances-table tbody');
  instances.replaceChildren();
  for (const i of body.instances) {
    const row = instances.insertRow();
    [i.kind, i.type, i.name].forEach((v) => cell(row, v));
  }
}

async function loadHealth() {
  const response = await fetch('/health');
  document.getElementById('health-status').textContent = response.ok ? (await response.json()).status : 'HTTP ' + response.status;
}

const loaders = { approvals: null, audit: null, sessions: loadSessions, policies: loadPolicies, plugins: loadPlugins, health: loadHealth };

function show(tab) {
  if (!(tab in loaders)) tab = 'approvals';
  document.querySelectorAll('section.tab').forEach((s) => { s.hidden = s.id !== tab; });
  document.querySelectorAll('nav a').forEach((a) => a.classList.toggle('active', a.dataset.tab === tab));
  if (loaders[tab]) loaders[tab]().catch(showError);
}

async function start() {
  const me = await api('/api/me');
  csrf = me.csrf;
  document.getElementById('me').textContent = me.user;
  document.getElementById('logout-csrf').value = csrf;
  document.getElementById('audit-form').addEventListener('submit', (e) => {
    e.preventDefault();
    loadAudit(e.target).catch(showError);
  });
  window.addEventListener('hashchange', () => show(location.hash.slice(1).split('=')[0]));
  show(location.hash.slice(1).split('=')[0]);
  await loadApprovals();
}

start().catch(showError);
