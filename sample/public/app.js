// The sample page: one EventSource for the page (clock, chat, notifications)
// and one per countdown. Plain browser JavaScript, no build step.
const EVENTS = 'events';
const room = new URLSearchParams(location.search).get('room') || 'lobby';
const $ = (id) => document.getElementById(id);

const state = {
  clientId: null,
  lastEventId: '',
  status: 'connecting',
  source: null,
  stopped: false,
  reopenDelay: 1000,
  reopenTimer: undefined,
};

function setStatus(status, detail) {
  state.status = status;
  $('status').dataset.state = status;
  $('status-text').textContent = detail ? `${status} — ${detail}` : status;
}

function log(type, event) {
  if (type === 'clock' && !$('log-clock').checked) return;
  const item = document.createElement('li');
  item.dataset.type = type;
  const id = event.lastEventId ? ` #${event.lastEventId}` : '';
  item.textContent = `${new Date().toLocaleTimeString()} ${type}${id} ${event.data ?? ''}`.slice(0, 160);
  $('log').prepend(item);
  while ($('log').children.length > 60) $('log').lastChild.remove();
}

// Every event the page handles goes through here: it keeps the last id and logs.
function on(source, type, handle) {
  source.addEventListener(type, (event) => {
    if (event.lastEventId) {
      state.lastEventId = event.lastEventId;
      $('last-event-id').textContent = event.lastEventId;
    }
    log(type, event);
    handle(event);
  });
}

function streamUrl() {
  const params = new URLSearchParams({ room });
  // EventSource reconnects to the same URL: an id offered here survives reconnects.
  if (state.clientId) params.set('clientId', state.clientId);
  // The browser sends Last-Event-ID on its own reconnects; a connection the page reopens says it here.
  if (state.lastEventId) params.set('lastEventId', state.lastEventId);
  return `/events?${params}`;
}

function connect(status) {
  clearTimeout(state.reopenTimer);
  setStatus(status);
  const source = new EventSource(streamUrl());
  state.source = source;

  on(source, 'sse.open', (event) => {
    const open = JSON.parse(event.data);
    state.clientId = open.clientId;
    state.reopenDelay = 1000;
    $('client-id').textContent = open.clientId;
    $('room').textContent = open.group;
    setStatus('open');
  });
  on(source, 'sse.close', (event) => {
    const { reason } = JSON.parse(event.data);
    // The server is restarting: come back, with Last-Event-ID.
    if (reason === 'shutdown') return setStatus('reconnecting', `server said ${reason}`);
    // Closed on purpose, or another tab took this client id: reconnecting would undo that.
    stop(`server said ${reason}`);
  });
  on(source, 'sse.gap', (event) => {
    const gap = JSON.parse(event.data);
    const note = $('gap-note');
    note.hidden = false;
    note.textContent =
      `Resync: the server no longer has the events after #${gap.lastEventId}` +
      ` (oldest kept: ${gap.oldestAvailableId ?? 'none'}). Live events go on; earlier chat may be missing.`;
  });
  on(source, 'sse.error', () => {});
  on(source, 'clock', (event) => showStats(JSON.parse(event.data)));
  on(source, 'chat', (event) => showChat(JSON.parse(event.data)));
  on(source, 'notice', (event) => showNotice(JSON.parse(event.data)));
  on(source, 'message', () => {});

  source.addEventListener('error', () => {
    if (source !== state.source || state.stopped) return;
    // CONNECTING: the browser reconnects by itself, after the server's `retry`.
    if (source.readyState === EventSource.CONNECTING) {
      if (state.status !== 'reconnecting') setStatus('reconnecting');
      return;
    }
    // CLOSED: the browser gave up (an error status, e.g. 503 while the server shuts down); the page retries.
    source.close();
    setStatus('reconnecting', `retrying in ${state.reopenDelay / 1000} s`);
    state.reopenTimer = setTimeout(() => connect('reconnecting'), state.reopenDelay);
    state.reopenDelay = Math.min(state.reopenDelay * 2, 30_000);
  });
}

function stop(detail) {
  state.stopped = true;
  state.source.close();
  setStatus('closed', detail);
}

function showStats(stats) {
  $('clock-time').textContent = new Date(stats.now).toLocaleTimeString();
  $('stat-uptime').textContent = `${stats.uptimeSeconds} s`;
  $('stat-connections').textContent = String(stats.connections);
  $('stat-rooms').textContent = stats.rooms.join(', ') || '–';
  $('stat-memory').textContent = `${stats.rssMiB} MiB`;
}

function showChat(message) {
  const item = document.createElement('li');
  const mine = message.from === state.clientId;
  item.className = mine ? 'mine' : '';
  const who = document.createElement('b');
  who.textContent = mine ? 'you' : message.from.slice(0, 8);
  item.append(who, ` ${message.text}`);
  item.title = `${message.room}, ${message.at}`;
  $('chat-messages').append(item);
}

function showNotice(notice) {
  const item = document.createElement('li');
  item.textContent = `${new Date(notice.at).toLocaleTimeString()} ${notice.text}`;
  $('notices').append(item);
}

// A normal request that names this page's connection: the server resolves it with @SseContext().
async function post(url, body, asConnection) {
  const headers = { 'Content-Type': 'application/json' };
  if (asConnection) Object.assign(headers, { 'X-Sse-Client-Id': state.clientId, 'X-Sse-Name': EVENTS });
  const response = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body) });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(answer.message ?? `HTTP ${response.status}`);
  return answer;
}

function startCountdown() {
  const panel = $('countdown-panel');
  const button = $('countdown-start');
  button.disabled = true;
  panel.dataset.state = 'running';
  const countdown = new EventSource('/countdown');
  countdown.addEventListener('countdown', (event) => {
    $('countdown-value').textContent = event.data;
    log('countdown', event);
  });
  // A local connection ends with sse.close: close, or the browser would start a new countdown.
  countdown.addEventListener('sse.close', (event) => {
    countdown.close();
    panel.dataset.state = 'done';
    button.disabled = false;
    log('sse.close', event);
  });
  countdown.addEventListener('error', () => {
    if (countdown.readyState !== EventSource.CLOSED) return;
    panel.dataset.state = 'failed';
    button.disabled = false;
  });
}

function wireForms() {
  $('room-input').value = room;
  $('countdown-start').addEventListener('click', startCountdown);
  $('chat-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const input = $('chat-input');
    try {
      await post('/api/chat', { text: input.value }, true);
      input.value = '';
    } catch (error) {
      log('error', { data: error.message });
    }
  });
  $('notify-me').addEventListener('click', () => notify(state.clientId, 'This one is for you only.'));
  $('notify-form').addEventListener('submit', (event) => {
    event.preventDefault();
    notify($('notify-client-id').value.trim(), $('notify-text').value);
  });
}

async function notify(clientId, text) {
  try {
    const { delivered } = await post('/api/notifications', { clientId, text }, false);
    $('notify-result').textContent = `delivered to ${delivered} connection(s)`;
  } catch (error) {
    $('notify-result').textContent = error.message;
  }
}

async function start() {
  wireForms();
  $('room').textContent = room;
  try {
    // A client id from the server (SseHub.newClientId), offered on every (re)connect.
    state.clientId = (await (await fetch('/events/client-id')).json()).clientId;
  } catch {
    // Without one the server issues an id on connect (announced in sse.open).
  }
  connect('connecting');
}

start();
