// The sample page. Its long-lived connection (clock, chat rooms, notifications) is kept by
// nestjs-sse-hub/client: across drops, restarts, deploys and busy minutes it comes back by itself
// with the same client id and last event id, so the server replays exactly what it missed.
// The countdown uses a plain EventSource, side by side. Plain browser JavaScript, no build step.
import { connect } from '/client.js';

const EVENTS = 'events';
const USER_COOKIE = 'sample-user';
const firstRoom = new URLSearchParams(location.search).get('room') || 'lobby';
const $ = (id) => document.getElementById(id);

/** The rooms this page is in (the server's record, kept in step by join / leave). */
let rooms = [];

function setStatus(status, detail) {
  $('status').dataset.state = status;
  $('status-text').textContent = detail ? `${status} — ${detail}` : status;
}

function log(type, data, lastEventId) {
  if (type === 'clock' && !$('log-clock').checked) return;
  const item = document.createElement('li');
  item.dataset.type = type;
  const id = lastEventId ? ` #${lastEventId}` : '';
  item.textContent = `${new Date().toLocaleTimeString()} ${type}${id} ${data ?? ''}`.slice(0, 160);
  $('log').prepend(item);
  while ($('log').children.length > 60) $('log').lastChild.remove();
}

/** @type {import('nestjs-sse-hub/client').SseHubClient<import('../events').SampleEvents>} */
const events = connect(`/events?room=${encodeURIComponent(firstRoom)}`, {
  // Never longer than 5 s between attempts: a sample should visibly come back.
  maxRetry: 5000,
  onOpen(open) {
    $('client-id').textContent = open.clientId;
    $('user').textContent = open.user ?? '–';
    // A reconnect starts in the route's rooms again: join the others once more.
    const joined = rooms.filter((room) => !open.groups.includes(room));
    showRooms(open.groups);
    for (const room of joined) void join(room);
    setStatus('open');
    log('sse.open', JSON.stringify(open));
  },
  onGap(gap) {
    const note = $('gap-note');
    note.hidden = false;
    note.textContent =
      `Resync: the server no longer has the events after #${gap.lastEventId}` +
      ` (oldest kept: ${gap.oldestAvailableId ?? 'none'}). Live events go on; earlier chat may be missing.`;
    log('sse.gap', JSON.stringify(gap));
  },
  onRetry({ delay, reason, status }) {
    // shutdown, rotate, overloaded, server: the server asked it back (after a spread retry).
    if (reason !== 'network' && reason !== 'status') log('sse.close', reason);
    else log('retry', status ? `${reason} ${status}` : reason);
    setStatus('reconnecting', `${reason}${status ? ` ${status}` : ''}, back in ${(delay / 1000).toFixed(1)} s`);
  },
  onClose({ reason, status }) {
    setStatus('closed', `${reason}${status ? ` ${status}` : ''}`);
  },
});

// Every event the page handles goes through here: it shows the last id and logs.
function on(type, handle) {
  events.on(type, (data, event) => {
    $('last-event-id').textContent = event.lastEventId || '–';
    log(type, event.data, event.lastEventId);
    handle(data);
  });
}

on('clock', (stats) => {
  $('clock-time').textContent = new Date(stats.now).toLocaleTimeString();
  $('stat-uptime').textContent = `${stats.uptimeSeconds} s`;
  $('stat-connections').textContent = String(stats.connections);
  $('stat-rooms').textContent = stats.rooms.join(', ') || '–';
  $('stat-memory').textContent = `${stats.rssMiB} MiB`;
});

on('chat', (message) => {
  const item = document.createElement('li');
  const mine = message.from === events.clientId;
  item.className = mine ? 'mine' : '';
  item.dataset.room = message.room;
  const who = document.createElement('b');
  who.textContent = mine ? 'you' : (message.user ?? message.from.slice(0, 8));
  item.append(who, ` ${message.text}`);
  item.title = `${message.room}, ${message.at}`;
  $('chat-messages').append(item);
});

on('notice', (notice) => {
  const item = document.createElement('li');
  item.textContent = `${new Date(notice.at).toLocaleTimeString()} ${notice.text}`;
  $('notices').append(item);
});

function showRooms(list) {
  rooms = list;
  $('rooms').textContent = rooms.join(', ') || '–';
  $('room-list').replaceChildren(
    ...rooms.map((room) => {
      const item = document.createElement('li');
      item.dataset.room = room;
      const leaveButton = document.createElement('button');
      leaveButton.type = 'button';
      leaveButton.title = `leave ${room}`;
      leaveButton.textContent = '×';
      leaveButton.addEventListener('click', () => void leave(room));
      item.append(room, leaveButton);
      return item;
    }),
  );
  const chosen = $('chat-room').value;
  $('chat-room').replaceChildren(...rooms.map((room) => new Option(room, room, false, room === chosen)));
}

// A normal request that names this page's connection: the server resolves it with @SseContext().
async function post(url, body, asConnection) {
  const headers = { 'Content-Type': 'application/json' };
  if (asConnection) Object.assign(headers, { 'X-Sse-Client-Id': events.clientId, 'X-Sse-Name': EVENTS });
  const response = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body) });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(answer.message ?? `HTTP ${response.status}`);
  return answer;
}

async function join(room) {
  try {
    await post('/api/rooms/join', { room }, true);
    if (!rooms.includes(room)) showRooms([...rooms, room]);
  } catch (error) {
    log('error', error.message);
  }
}

async function leave(room) {
  try {
    await post('/api/rooms/leave', { room }, true);
    showRooms(rooms.filter((r) => r !== room));
  } catch (error) {
    log('error', error.message);
  }
}

async function notify(to, text) {
  try {
    const { delivered } = await post('/api/notifications', { ...to, text }, false);
    $('notify-result').textContent = `delivered to ${delivered} connection(s)`;
  } catch (error) {
    $('notify-result').textContent = error.message;
  }
}

function startCountdown() {
  const panel = $('countdown-panel');
  const button = $('countdown-start');
  button.disabled = true;
  panel.dataset.state = 'running';
  const countdown = new EventSource('/countdown');
  countdown.addEventListener('countdown', (event) => {
    $('countdown-value').textContent = event.data;
    log('countdown', event.data, event.lastEventId);
  });
  // A local connection ends with sse.close: close, or the browser would start a new countdown.
  countdown.addEventListener('sse.close', (event) => {
    countdown.close();
    panel.dataset.state = 'done';
    button.disabled = false;
    log('sse.close', event.data);
  });
  countdown.addEventListener('error', () => {
    if (countdown.readyState !== EventSource.CLOSED) return;
    panel.dataset.state = 'failed';
    button.disabled = false;
  });
}

// The model's answer: a resumable stream. The page asks with a POST (the library's client reads
// with fetch, so it can POST) and keeps the stream's id in localStorage: a reloaded page, or a
// second tab (told by the 'storage' event), follows it by its id and shows the whole answer once,
// then the live words. The stop button stops it on the server, for every tab.
const ANSWER_KEY = 'sample-answer';
/** The client reading the answer shown. */
let answer;

function answerState(state) {
  $('answer-panel').dataset.state = state;
  $('answer-state').textContent = state;
  $('answer-stop').disabled = state !== 'streaming';
}

function readAnswer(url, options = {}) {
  answer?.close();
  $('answer-text').textContent = '';
  answerState('streaming');
  const stream = connect(url, {
    ...options,
    maxRetry: 5000,
    onOpen({ streamId }) {
      $('answer-id').textContent = streamId;
      if (options.method === 'POST') localStorage.setItem(ANSWER_KEY, streamId);
    },
    onRetry() {
      // Asking again would start another answer: after a drop, follow this one instead.
      if (options.method !== 'POST') return;
      const streamId = $('answer-id').textContent;
      if (streamId !== '–') followAnswer(streamId);
    },
    onClose({ reason, status }) {
      // done, stopped, lost, shutdown; a 404 once the recording expired.
      if (stream === answer) answerState(status === 404 ? 'expired' : reason);
    },
  });
  stream.on('word', (word) => {
    const text = $('answer-text');
    text.textContent = text.textContent ? `${text.textContent} ${word}` : word;
  });
  answer = stream;
}

function followAnswer(streamId) {
  readAnswer(`/answer/${encodeURIComponent(streamId)}`);
}

function wireAnswer() {
  $('answer-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const question = $('answer-question').value.trim();
    if (!question) return;
    readAnswer('/answer', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ question }) });
  });
  $('answer-stop').addEventListener('click', () => {
    const streamId = $('answer-id').textContent;
    if (streamId !== '–') post(`/api/answer/${encodeURIComponent(streamId)}/stop`, {}).catch((error) => log('error', error.message));
  });
  // Another tab asked: show its answer here too, live.
  addEventListener('storage', (event) => {
    if (event.key === ANSWER_KEY && event.newValue) followAnswer(event.newValue);
  });
  const kept = localStorage.getItem(ANSWER_KEY);
  if (kept) followAnswer(kept);
}

/** Who this browser says it is: a cookie every tab shares (a stand-in for a real session). */
function signIn(name) {
  const cookie = name ? encodeURIComponent(name) : '';
  document.cookie = `${USER_COOKIE}=${cookie}; path=/; SameSite=Lax${name ? '' : '; max-age=0'}`;
  // Its connection belongs to its user from the start: reconnect as that user.
  location.reload();
}

function wireForms() {
  $('user-input').value = decodeURIComponent(document.cookie.match(/(?:^|; )sample-user=([^;]*)/)?.[1] ?? '');
  $('user-form').addEventListener('submit', (event) => {
    event.preventDefault();
    signIn($('user-input').value.trim());
  });
  $('countdown-start').addEventListener('click', startCountdown);
  $('room-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const room = $('room-input').value.trim();
    if (room) void join(room);
  });
  $('chat-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const input = $('chat-input');
    try {
      await post('/api/chat', { room: $('chat-room').value || undefined, text: input.value }, true);
      input.value = '';
    } catch (error) {
      log('error', error.message);
    }
  });
  $('notify-me').addEventListener('click', () => notify({ clientId: events.clientId }, 'This one is for you only.'));
  $('notify-form').addEventListener('submit', (event) => {
    event.preventDefault();
    void notify({ clientId: $('notify-client-id').value.trim() }, $('notify-text').value);
  });
  $('notify-user-form').addEventListener('submit', (event) => {
    event.preventDefault();
    void notify({ user: $('notify-user').value.trim() }, $('notify-user-text').value);
  });
}

wireForms();
wireAnswer();
