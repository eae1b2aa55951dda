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
    row.className = s.live ? 'live' : 'ended';
    [s.id, s.identity, s.client, s.database, s.policy, s.started, s.live ? 'live' : (s.ended || 'unknown'),
      s.statements == null ? '' : s.statements].forEach((v) => cell(row, v));
    const actions = row.insertCell();
    if (s.recorded) {
      const replay = document.createElement('a');
      replay.textContent = 'Replay';
      replay.className = 'replay';
      replay.href = '#replay=' + encodeURIComponent(s.id);
      actions.append(replay, ' ');
    }
    if (s.live) {
      const kill = document.createElement('button');
      kill.textContent = 'Kill';
      kill.className = 'deny';
      kill.onclick = () => api('/api/sessions/' + encodeURIComponent(s.id), { method: 'DELETE' }).then(loadSessions, showError);
      actions.append(kill);
    }
  }
}

// ---- a recorded session, played back step by step -------------------------------------
// A step is a statement (or a hold, or the session's end) and everything the client received
// after it; the transcript shows the steps played so far, as psql would have shown them.
const player = { steps: [], at: 0, timer: null, database: '' };

function stepsOf(events) {
  const steps = [];
  let current = null;
  for (const e of events) {
    if (current === null || e.type === 'statement' || e.type === 'held' || e.type === 'session_end') {
      current = { t: e.t, events: [] };
      steps.push(current);
    }
    current.events.push(e);
  }
  return steps;
}

function label(step) {
  const first = step.events.find((e) => e.type !== 'gap') || step.events[0];
  const time = '+' + (step.t / 1e6).toFixed(3) + 's ';
  switch (first.type) {
    case 'session_start': return time + 'session start';
    case 'statement': return time + first.text;
    case 'held': return time + 'held: ' + first.text;
    case 'session_end': return time + 'end: ' + first.reason;
    default: return time + first.type;
  }
}

function transcript(step) {
  const lines = [];
  let columns = null;
  let rows = [];
  const table = () => {
    if (!columns) return;
    lines.push(' ' + columns.join(' | '));
    for (const r of rows) lines.push(' ' + r.map((v) => (v == null ? '' : v)).join(' | '));
  };
  for (const e of step.events) {
    switch (e.type) {
      case 'session_start':
        lines.push('-- session ' + e.session + ' of ' + e.identity + ' (' + e.issuer + ') from ' + e.client
          + ', database ' + e.database + ', policy ' + e.policy + ', started ' + e.started);
        break;
      case 'statement':
        lines.push(player.database + '=> ' + e.text);
        if (e.parameters && e.parameters.length) {
          lines.push('-- parameters: ' + e.parameters.map((v, i) => '$' + (i + 1) + ' = ' + (v == null ? 'NULL' : "'" + v + "'")).join(', '));
        }
        if (e.decision !== 'ALLOW') lines.push('-- pgwarden: ' + e.decision + (e.reason ? ' (' + e.reason + ')' : ''));
        else if (e.reason) lines.push('-- ' + e.reason);
        break;
      case 'held': lines.push(player.database + '=> ' + e.text, '-- held for approval: request ' + e.request); break;
      case 'columns': columns = e.columns.map((c) => c.name); rows = []; break;
      case 'row': rows.push(e.values); break;
      case 'copy_data': lines.push(e.data.replace(/\n$/, '')); break;
      case 'complete':
        if (columns) {
          table();
          const total = rows.length + (e.rows_not_recorded || 0);
          lines.push('(' + total + (total === 1 ? ' row' : ' rows') + (e.rows_not_recorded ? '; ' + e.rows_not_recorded + ' not recorded' : '') + ')');
        } else {
          lines.push(e.tag);
        }
        columns = null;
        break;
      case 'error': case 'notice':
        table(); columns = null;
        lines.push(e.severity + ':  ' + e.message);
        if (e.detail) lines.push('DETAIL:  ' + e.detail);
        if (e.hint) lines.push('HINT:  ' + e.hint);
        if (e.type === 'error') lines.push('-- SQLSTATE ' + e.sqlstate);
        break;
      case 'copy_in': lines.push('-- COPY FROM STDIN (' + e.format + ')'); break;
      case 'copy_out': lines.push('-- COPY TO STDOUT (' + e.format + ')'); break;
      case 'copy_in_data': lines.push('-- the client sent ' + e.messages + ' COPY message(s), ' + e.bytes + ' byte(s); ' + e.end); break;
      case 'gap': lines.push('-- ' + e.dropped_events + ' event(s) not recorded here: the recording writer fell behind'); break;
      case 'session_end': lines.push('-- session ended: ' + e.reason); break;
      default: break;
    }
  }
  return lines.join('\n');
}

function renderPlayer() {
  const text = player.steps.slice(0, player.at).map(transcript).join('\n\n');
  const pre = document.getElementById('replay-transcript');
  pre.textContent = text;
  pre.scrollTop = pre.scrollHeight;
  document.querySelectorAll('#replay-steps li').forEach((li, i) => {
    li.className = i < player.at - 1 ? 'played' : i === player.at - 1 ? 'current' : 'future';
  });
  document.getElementById('replay-timeline').value = player.at;
  document.getElementById('replay-position').textContent = 'step ' + player.at + ' of ' + player.steps.length;
}

function pause() {
  clearTimeout(player.timer);
  player.timer = null;
  document.getElementById('replay-play').textContent = 'Play';
}

function playNext() {
  if (player.at >= player.steps.length) { pause(); return; }
  player.at++;
  renderPlayer();
  if (player.at >= player.steps.length) { pause(); return; }
  const speed = Number(document.getElementById('replay-speed').value);
  const wait = (player.steps[player.at].t - player.steps[player.at - 1].t) / 1000 / speed;
  player.timer = setTimeout(playNext, wait);
}

async function loadReplay() {
  pause();
  const id = decodeURIComponent(location.hash.split('=')[1] || '');
  document.getElementById('replay-id').textContent = id;
  document.getElementById('replay-download').href = '/api/recordings/' + encodeURIComponent(id) + '/download';
  const broken = document.getElementById('replay-broken');
  const response = await fetch('/api/recordings/' + encodeURIComponent(id), { credentials: 'same-origin', headers: { 'Accept': 'application/json' } });
  if (response.status === 401) { location.href = '/login'; return; }
  const body = await response.json();
  const facts = body.session;
  document.getElementById('replay-facts').textContent = facts
    ? facts.identity + ' · ' + facts.database + ' · ' + facts.started + (facts.ended ? ' → ' + facts.ended : ' (live)') : '';
  broken.hidden = body.intact !== false && response.ok;
  document.getElementById('replay-player').hidden = !response.ok;
  if (!response.ok) {
    broken.textContent = body.error || ('HTTP ' + response.status);
    return;
  }
  player.database = facts.database || '';
  player.steps = stepsOf(body.events);
  player.at = 1;
  const list = document.getElementById('replay-steps');
  list.replaceChildren();
  player.steps.forEach((step, i) => {
    const li = document.createElement('li');
    li.textContent = label(step);
    li.onclick = () => { pause(); player.at = i + 1; renderPlayer(); };
    list.append(li);
  });
  const timeline = document.getElementById('replay-timeline');
  timeline.max = player.steps.length;
  renderPlayer();
}

function wirePlayer() {
  document.getElementById('replay-step').onclick = () => { pause(); if (player.at < player.steps.length) { player.at++; renderPlayer(); } };
  document.getElementById('replay-restart').onclick = () => { pause(); player.at = 1; renderPlayer(); };
  document.getElementById('replay-play').onclick = (e) => {
    if (player.timer) { pause(); return; }
    e.target.textContent = 'Pause';
    if (player.at >= player.steps.length) player.at = 0;
    playNext();
  };
  document.getElementById('replay-timeline').oninput = (e) => { pause(); player.at = Math.max(1, Number(e.target.value)); renderPlayer(); };
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

const loaders = { approvals: null, audit: null, sessions: loadSessions, replay: loadReplay, policies: loadPolicies, plugins: loadPlugins, health: loadHealth };

function show(tab) {
  if (!(tab in loaders)) tab = 'approvals';
  document.querySelectorAll('section.tab').forEach((s) => { s.hidden = s.id !== tab; });
  document.querySelectorAll('nav a').forEach((a) => a.classList.toggle('active', a.dataset.tab === (tab === 'replay' ? 'sessions' : tab)));
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
  wirePlayer();
  window.addEventListener('hashchange', () => show(location.hash.slice(1).split('=')[0]));
  show(location.hash.slice(1).split('=')[0]);
  await loadApprovals();
}

start().catch(showError);
