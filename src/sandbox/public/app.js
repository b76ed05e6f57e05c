// The sandbox page. Plain ES module, no build step. The server pushes every change over
// server-sent events (/sandbox/api/events); the page re-reads only what changed.
//
// Panels of other features are ES modules served beside this one (/sandbox/staff.js,
// /sandbox/broadcasts.js) exporting `mount(container, api)`, where
//   api.get(path) / api.post(path, body) → parsed JSON; on a non-2xx they throw an Error with
//     the server's message (and the page shows it until dismissed);
//   api.on(type, handler) → subscribes to pushed events `{ type, data }` (handler gets data);
//     returns the unsubscribe function.

const $ = (id) => document.getElementById(id);

const state = {
  info: null,
  people: [],
  current: null,
  lastChat: '',
  sms: [],
  smsDismissed: 0,
  handlers: new Map(),
};

// ── DOM helpers ──
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'onclick') node.addEventListener('click', v);
    else node.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children) if (c !== null && c !== undefined) node.append(c);
  return node;
}

// ── Errors: every one stays until dismissed ──
function showError(message) {
  const box = $('errors');
  // The same message twice in a row is shown once, with a count.
  const last = box.lastElementChild;
  if (last && last.dataset.message === message) {
    const n = Number(last.dataset.count) + 1;
    last.dataset.count = String(n);
    last.querySelector('span').textContent = `${message} (×${n})`;
    return;
  }
  const item = el('div', { class: 'error', 'data-message': message, 'data-count': '1' },
    el('span', {}, message),
    el('button', { type: 'button', 'aria-label': 'Dismiss', title: 'Dismiss', onclick: () => item.remove() }, '×'));
  box.append(item);
}

// ── The JSON API (also handed to panel modules) ──
async function request(path, body) {
  let res;
  try {
    res = await fetch(path, body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  } catch (err) {
    const error = new Error(`The sandbox server cannot be reached (${err.message}). Is \`npm start\` still running?`);
    showError(error.message);
    throw error;
  }
  const data = await res.json().catch(() => ({}));
  if (!res.ok) {
    // Field messages add to the message only when they say something it does not.
    const fields = (Array.isArray(data.fields) ? data.fields : []).filter((f) => f.message && !String(data.message ?? '').includes(f.message)).map((f) => `${f.field}: ${f.message}`).join('; ');
    const message = data.message ? (fields ? `${data.message} (${fields})` : data.message) : `${res.status} ${res.statusText}`;
    const error = new Error(message);
    error.status = res.status;
    error.body = data;
    showError(error.message);
    throw error;
  }
  return data;
}

function on(type, handler) {
  if (!state.handlers.has(type)) state.handlers.set(type, new Set());
  state.handlers.get(type).add(handler);
  return () => state.handlers.get(type)?.delete(handler);
}

const api = { get: (path) => request(path), post: (path, body = {}) => request(path, body), on };
// For the console and the browser test.
window.sandbox = { api, state };

// ── Time, in the bot's time zone ──
let timeFormat = null;
let dateTimeFormat = null;
function formatTime(iso, withDate = false) {
  const d = new Date(iso);
  return (withDate ? dateTimeFormat : timeFormat).format(d);
}

// ── Tabs (phone: one section at a time; desktop: the side column's panel) ──
const SIDE = new Set(['shop', 'staff', 'broadcasts']);
function showTab(tab, { remember = true } = {}) {
  document.body.dataset.tab = tab;
  if (SIDE.has(tab)) document.body.dataset.side = tab;
  for (const b of document.querySelectorAll('.tabs [data-tab]')) b.setAttribute('aria-selected', String(b.dataset.tab === tab));
  for (const b of document.querySelectorAll('.side-tabs [data-tab]')) b.setAttribute('aria-selected', String(b.dataset.tab === document.body.dataset.side));
  if (remember) saveUrl();
  if (tab === 'chat') scrollChatToEnd();
}
function saveUrl() {
  const params = new URLSearchParams();
  if (state.current) params.set('person', state.current.key);
  params.set('tab', document.body.dataset.tab);
  history.replaceState(null, '', `?${params}`);
}
for (const b of document.querySelectorAll('nav [data-tab]')) b.addEventListener('click', () => showTab(b.dataset.tab));

// ── People ──
function renderPeople() {
  const box = $('people');
  box.replaceChildren();
  const byPhone = new Map();
  for (const p of state.people) {
    if (!byPhone.has(p.phone)) byPhone.set(p.phone, []);
    byPhone.get(p.phone).push(p);
  }
  for (const [phone, accounts] of byPhone) {
    const first = accounts[0];
    const buttons = accounts.map((p) => el('button', {
      type: 'button',
      class: `${p.platform}${state.current?.key === p.key ? ' active' : ''}`,
      'data-person': p.key,
      onclick: () => { select(p); showTab('chat'); },
    }, p.platform === 'telegram' ? 'Telegram' : 'VK'));
    box.append(el('div', { class: 'person' },
      el('div', { class: 'who' }, el('b', {}, first.name), el('span', { class: 'muted small' }, first.language.toUpperCase())),
      el('div', { class: 'muted small' }, phone),
      el('div', { class: 'buttons' }, ...buttons)));
  }
}

// ── Chat ──
function atBottom(box) { return box.scrollHeight - box.scrollTop - box.clientHeight < 40; }
function scrollChatToEnd() { const box = $('messages'); box.scrollTop = box.scrollHeight; }

async function press(button, messageId) {
  if (button.kind === 'url') { window.open(button.url, '_blank', 'noopener'); return; }
  await request('/sandbox/api/press', { person: state.current.key, kind: button.kind, label: button.label, data: button.data, messageId }).catch(() => undefined);
}

function buttonRow(row, messageId) {
  return el('div', { class: 'row' }, ...row.map((b) => el('button', {
    type: 'button',
    class: b.kind === 'contact' ? 'contact' : undefined,
    title: b.kind === 'contact' ? `Shares ${state.current.phone} as a Telegram contact` : b.kind === 'url' ? b.url : undefined,
    onclick: () => press(b, messageId),
  }, b.kind === 'url' ? `${b.label} ↗` : b.label)));
}

function renderChat(view) {
  const key = JSON.stringify(view);
  if (key === state.lastChat) return;
  state.lastChat = key;
  const box = $('messages');
  // Follow the conversation when the reader is at the end, or just wrote.
  const stick = atBottom(box) || box.childElementCount === 0 || view.messages.at(-1)?.from === 'user';
  box.replaceChildren();
  if (view.messages.length === 0) {
    const hint = el('div', { class: 'hint' },
      el('p', {}, 'Nothing here yet. A chat with a bot starts with /start, as in the real app.'),
      el('button', { type: 'button', class: 'primary', onclick: () => sendText('/start') }, 'Press /start'));
    box.append(hint);
  }
  for (const m of view.messages) {
    const bubble = el('div', { class: `msg ${m.from}`, 'data-id': String(m.id) }, m.text);
    if (m.inline.length) bubble.append(el('div', { class: 'inline' }, ...m.inline.map((row) => buttonRow(row, m.id))));
    bubble.append(el('time', { datetime: m.at }, formatTime(m.at)));
    box.append(bubble);
  }
  if (stick) scrollChatToEnd();
  const kb = $('keyboard');
  kb.replaceChildren(...view.keyboard.map((row) => buttonRow(row)));
}

let chatLoading = null;
let chatAgain = false;
async function refreshChat() {
  if (!state.current) return;
  // Pushes come in bursts (message + keyboard + edit): one read at a time, one more after.
  if (chatLoading) { chatAgain = true; return chatLoading; }
  const key = state.current.key;
  chatLoading = (async () => {
    try {
      const view = await request(`/sandbox/api/chat?person=${encodeURIComponent(key)}`);
      if (state.current?.key === key) renderChat(view);
    } catch { /* shown */ }
  })();
  await chatLoading;
  chatLoading = null;
  if (chatAgain) { chatAgain = false; await refreshChat(); }
}

async function sendText(text) {
  if (!state.current) return false;
  try {
    await request('/sandbox/api/send', { person: state.current.key, text });
    return true;
  } catch {
    return false;
  }
}

const composer = $('text');
$('compose').addEventListener('submit', async (e) => {
  e.preventDefault();
  const text = composer.value;
  if (!text.trim() || !state.current) return;
  const button = e.submitter ?? $('compose').querySelector('button');
  button.disabled = true;
  // The text stays in the composer until the server took it: a refused message is not lost.
  const ok = await sendText(text);
  button.disabled = false;
  if (ok && composer.value === text) { composer.value = ''; autoGrow(); }
  composer.focus();
});
composer.addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); $('compose').requestSubmit(); }
});
function autoGrow() {
  // A growing composer takes height from the messages: keep the newest in view.
  const box = $('messages');
  const stick = atBottom(box);
  composer.style.height = 'auto';
  composer.style.height = `${Math.min(composer.scrollHeight, 140)}px`;
  if (stick) scrollChatToEnd();
}
composer.addEventListener('input', autoGrow);

// ── Popups: a callback answer's text (Telegram) or a snackbar (VK) ──
function showPopup(text, alert) {
  const box = $('popups');
  const item = el('div', { class: `popup${alert ? ' alert' : ''}`, role: 'status' }, el('span', {}, text));
  if (alert) item.append(el('button', { type: 'button', 'aria-label': 'OK', onclick: () => item.remove() }, 'OK'));
  else setTimeout(() => item.remove(), 4000);
  box.append(item);
}

// ── SMS ──
function renderSms() {
  const list = $('sms-all');
  list.replaceChildren();
  if (!state.sms.length) list.append(el('p', { class: 'muted' }, 'No SMS yet.'));
  for (const s of state.sms) list.append(smsCard(s));
  // The newest SMS also shows above the composer (a VK login needs the code right there).
  const latest = state.sms[0];
  const strip = $('sms-latest');
  if (latest && latest.id > state.smsDismissed && Date.now() - Date.parse(latest.at) < 15 * 60_000) {
    strip.replaceChildren(smsCard(latest), el('button', { type: 'button', title: 'Hide', 'aria-label': 'Hide', onclick: () => { state.smsDismissed = latest.id; strip.hidden = true; } }, '×'));
    strip.hidden = false;
  } else strip.hidden = true;
}
function smsCard(s) {
  return el('div', { class: 'sms' }, el('span', { class: 'meta' }, `SMS to ${s.to} · ${formatTime(s.at, true)}`), s.text);
}
async function loadSms() {
  try { state.sms = (await request('/sandbox/api/sms')).sms; renderSms(); } catch { /* shown */ }
}

// ── Shop panel ──
const label = (status) => status.replaceAll('_', ' ');
async function loadShop() {
  const orders = $('orders');
  const products = $('products');
  if (!state.current) return;
  const person = state.current;
  $('shop-title').textContent = `Shop — ${person.name}`;
  let data;
  let wish;
  try {
    [data, wish] = await Promise.all([
      request(`/sandbox/api/orders?person=${encodeURIComponent(person.key)}`),
      request(`/sandbox/api/products?person=${encodeURIComponent(person.key)}`),
    ]);
  } catch { return; }
  if (state.current?.key !== person.key) return;
  orders.replaceChildren();
  if (!data.orders.length) orders.append(el('p', { class: 'muted' }, 'No orders for this number yet.'));
  for (const o of data.orders) {
    const actions = o.next.map((s) => el('button', {
      type: 'button',
      'data-order': o.number,
      'data-status': s,
      onclick: async (e) => {
        e.currentTarget.disabled = true;
        try { await request('/sandbox/api/order-status', { number: o.number, status: s }); } catch { /* shown */ }
        loadShop();
      },
    }, `→ ${label(s)}`));
    orders.append(el('div', { class: 'order', 'data-number': o.number },
      el('div', { class: 'head' }, el('b', {}, o.number), el('span', { class: 'muted small' }, `${formatTime(o.placedAt, true)} · ${o.total} ₽`)),
      el('div', {},
        el('span', { class: 'badge', 'data-role': 'status' }, label(o.status)), ' ',
        el('span', { class: `badge pay-${o.paymentStatus ?? 'none'}`, title: 'Payment status' }, `payment: ${o.paymentStatus ?? '—'}`), ' ',
        el('span', { class: 'muted small' }, [o.deliveryMethod, o.paymentMethod].filter(Boolean).join(' · '))),
      actions.length ? el('div', { class: 'actions' }, ...actions) : el('div', { class: 'muted small' }, 'Final: nothing follows.')));
  }
  products.replaceChildren();
  if (!wish.products.length) products.append(el('p', { class: 'muted' }, 'Nothing in this customer\'s wishlist.'));
  for (const p of wish.products) {
    const alerts = p.alerts.map((a) => (a === 'back_in_stock' ? 'waits for stock' : 'waits for a lower price')).join(', ');
    const act = (path, text, body) => el('button', {
      type: 'button',
      onclick: async (e) => {
        e.currentTarget.disabled = true;
        try { await request(`/sandbox/api/products/${encodeURIComponent(p.sku)}/${path}`, body); } catch { /* shown */ }
        loadShop();
      },
    }, text);
    products.append(el('div', { class: 'product', 'data-sku': p.sku },
      el('b', {}, p.name),
      el('div', { class: 'small' },
        `${p.price} ₽`, p.oldPrice ? el('s', { class: 'muted' }, ` ${p.oldPrice} ₽`) : null,
        ` · ${p.stock > 0 ? `${p.stock} in stock` : 'sold out'}`, alerts ? el('span', { class: 'muted' }, ` · customer ${alerts}`) : null),
      el('div', { class: 'actions' }, act('restock', 'Restock +10', { quantity: 10 }), act('price-drop', 'Price −15%', { percent: 15 }))));
  }
}

async function loadWebhooks() {
  const box = $('webhooks');
  let data;
  try { data = await request('/sandbox/api/webhooks'); } catch { return; }
  box.replaceChildren();
  if (!data.webhooks.length) box.append(el('p', { class: 'muted' }, 'None yet.'));
  for (const w of data.webhooks.slice(0, 30)) {
    box.append(el('div', { class: 'webhook' }, el('b', {}, w.type), el('span', { class: 'muted' }, ` · ${formatTime(w.at, true)}`), el('div', { class: 'muted' }, JSON.stringify(w.data))));
  }
}

// ── Choosing a person ──
function select(person) {
  state.current = person;
  state.lastChat = '';
  $('chat-title').replaceChildren(`${person.platform === 'telegram' ? 'Telegram' : 'VK'} — ${person.name} `,
    el('span', { class: 'tz', title: "Times are shown in the bot's time zone" }, `· times ${state.info.timeZone}`));
  $('messages').replaceChildren();
  $('keyboard').replaceChildren();
  $('popups').replaceChildren();
  renderPeople();
  saveUrl();
  refreshChat();
  loadShop();
}

// ── Reset ──
$('reset').addEventListener('click', async () => {
  if (!window.confirm('Reset the demo? The database is emptied and seeded again, and every chat and SMS is forgotten.')) return;
  const button = $('reset');
  button.disabled = true;
  button.textContent = 'Resetting…';
  try { await request('/sandbox/api/reset', {}); } catch { /* shown */ }
  button.disabled = false;
  button.textContent = 'Reset demo';
});

// ── Live updates ──
function dispatch(event) {
  for (const handler of state.handlers.get(event.type) ?? []) {
    try { handler(event.data); } catch (err) { showError(`A panel failed on a "${event.type}" event: ${err.message}`); }
  }
}
on('chat', (data) => { if (data.person === state.current?.key) refreshChat(); });
on('sms', (sms) => { if (!state.sms.some((s) => s.id === sms.id)) { state.sms.unshift(sms); renderSms(); } });
on('popup', (data) => { if (data.person === state.current?.key) showPopup(data.text, data.alert); });
on('orders', () => loadShop());
on('products', () => loadShop());
on('webhook', () => loadWebhooks());
on('reset', () => { state.sms = []; state.smsDismissed = 0; renderSms(); state.lastChat = ''; refreshChat(); loadShop(); loadWebhooks(); });
// After (re)connecting, read everything again: events sent while away are not replayed.
on('hello', () => { refreshChat(); loadSms(); loadShop(); loadWebhooks(); });

function connect() {
  const live = $('live');
  const source = new EventSource('/sandbox/api/events');
  source.onopen = () => { live.textContent = 'live'; live.className = 'live on'; };
  source.onerror = () => { live.textContent = 'reconnecting…'; live.className = 'live off'; };
  source.onmessage = (e) => {
    let event;
    try { event = JSON.parse(e.data); } catch { return; }
    if (event && typeof event.type === 'string') dispatch(event);
  };
}

// ── Panels of other features ──
async function mountPanel(name, container) {
  try {
    const module = await import(`/sandbox/${name}.js`);
    if (typeof module.mount !== 'function') throw new Error(`${name}.js has no mount()`);
    await module.mount(container, api);
  } catch (err) {
    container.replaceChildren(el('p', { class: 'unavailable' }, `The ${name} view is not available in this build.`));
    if (!/Failed to fetch|Importing a module script failed|error loading dynamically imported module/i.test(String(err?.message))) console.warn(err);
  }
}

// ── Start ──
async function start() {
  try { state.info = await request('/sandbox/api/info'); } catch { return; }
  const { timeZone } = state.info;
  timeFormat = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit' });
  dateTimeFormat = new Intl.DateTimeFormat('en-GB', { timeZone, day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
  $('sms-tz').textContent = `(times in ${timeZone}, the bot's time zone)`;
  state.people = state.info.people;
  const params = new URLSearchParams(location.search);
  const wanted = state.people.find((p) => p.key === params.get('person')) ?? state.people[0];
  const tab = params.get('tab');
  showTab(['people', 'chat', 'shop', 'staff', 'broadcasts'].includes(tab) ? tab : 'chat', { remember: false });
  select(wanted);
  connect();
  mountPanel('staff', $('staff'));
  mountPanel('broadcasts', $('broadcasts'));
}
start();
