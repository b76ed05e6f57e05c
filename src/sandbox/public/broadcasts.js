// The sandbox's broadcast view: compose a broadcast for the demo customers and watch it go
// out. A browser ES module: mount(container, api), where api.get(path) / api.post(path, body)
// return parsed JSON (throwing on non-2xx) and api.on(type, handler) subscribes to pushed
// events (may be a no-op: this view polls while a broadcast is running).

const BASE = '/sandbox/api/broadcasts';

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'on') for (const [type, fn] of Object.entries(v)) node.addEventListener(type, fn);
    else if (k === 'style') node.setAttribute('style', v);
    else if (v !== undefined && v !== false) node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

function checkboxes(name, values) {
  return values.map((v) => el('label', { style: 'margin-right:12px' }, el('input', { type: 'checkbox', name, value: v, checked: true }), ` ${v}`));
}

function bar(f) {
  const done = f.total - f.pending;
  const pct = f.total === 0 ? 100 : Math.floor((done / f.total) * 100);
  return el('div', { style: 'background:#eee;border-radius:4px;height:10px;width:100%;margin:4px 0' }, el('div', { style: `background:#3a7;height:10px;border-radius:4px;width:${pct}%` }));
}

export function mount(container, api) {
  let timer;
  const status = el('div', { style: 'margin:6px 0;color:#555' });
  const list = el('div');
  const form = el(
    'form',
    { style: 'display:grid;gap:6px;max-width:560px' },
    el('label', {}, 'Title ', el('input', { name: 'title', value: 'Winter sale', required: true, maxlength: 200 })),
    el('label', {}, 'Text (ru) ', el('textarea', { name: 'ru', rows: 3, required: true }, 'Привет, {firstName}! Для уровня «{tier}» скидка 20%. У вас {points} баллов.')),
    el('label', {}, 'Text (en) ', el('textarea', { name: 'en', rows: 3 }, 'Hi {firstName}! 20% off for {tier} members. You have {points} points.')),
    el('label', {}, 'Button (optional) ', el('input', { name: 'buttonText', placeholder: 'Shop now', maxlength: 40 }), ' ', el('input', { name: 'buttonUrl', placeholder: 'https://shop.example/sale', type: 'url' })),
    el('div', {}, 'Platforms: ', ...checkboxes('platforms', ['telegram', 'vk'])),
    el('div', {}, 'Languages: ', ...checkboxes('languages', ['ru', 'en'])),
    el('div', { style: 'font-size:12px;color:#777' }, 'Only customers who gave marketing consent and kept promotions on get it; each once, on the messenger used last.'),
    el('div', {}, el('button', { type: 'button', on: { click: () => void count() } }, 'Count recipients'), ' ', el('button', { type: 'submit' }, 'Send now')),
  );

  function segment() {
    const data = new FormData(form);
    const seg = {};
    const platforms = data.getAll('platforms');
    const languages = data.getAll('languages');
    if (platforms.length < 2) seg.platforms = platforms;
    if (languages.length < 2) seg.languages = languages;
    return seg;
  }

  async function count() {
    try {
      const c = await api.post(`${BASE}/count`, { segment: segment() });
      status.textContent = `Recipients: ${c.customers} (Telegram ${c.byPlatform.telegram}, VK ${c.byPlatform.vk}); blocked the bot: ${c.blocked}.`;
    } catch (err) {
      status.textContent = `Could not count: ${err.message}`;
    }
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const text = { ru: String(data.get('ru') || '') };
    if (String(data.get('en') || '').trim()) text.en = String(data.get('en'));
    const body = { title: String(data.get('title')), text, segment: segment() };
    const buttonText = String(data.get('buttonText') || '').trim();
    const buttonUrl = String(data.get('buttonUrl') || '').trim();
    if (buttonText && buttonUrl) body.buttons = [{ text: { ru: buttonText }, url: buttonUrl }];
    try {
      const b = await api.post(BASE, body);
      status.textContent = `Started "${b.title}" to ${b.total} recipients.`;
      await refresh();
    } catch (err) {
      status.textContent = `Refused: ${err.message}`;
    }
  });

  async function act(id, action) {
    try {
      await api.post(`${BASE}/${id}/${action}`, {});
    } catch (err) {
      status.textContent = `${action}: ${err.message}`;
    }
    await refresh();
  }

  async function refresh() {
    let items = [];
    try {
      ({ items } = await api.get(BASE));
    } catch (err) {
      status.textContent = `Could not load broadcasts: ${err.message}`;
    }
    list.replaceChildren(
      ...items.map((f) =>
        el(
          'div',
          { style: 'border:1px solid #ddd;border-radius:6px;padding:8px;margin:8px 0;max-width:560px' },
          el('b', {}, f.title), ` — ${f.status}`,
          bar(f),
          el('div', { style: 'font-size:13px' }, `sent ${f.sent} · blocked ${f.blocked} · failed ${f.failed} · skipped ${f.skipped} · left ${f.pending} of ${f.total}`),
          el(
            'div',
            {},
            f.status === 'sending' ? el('button', { type: 'button', on: { click: () => void act(f.id, 'pause') } }, 'Pause') : '',
            f.status === 'paused' ? el('button', { type: 'button', on: { click: () => void act(f.id, 'resume') } }, 'Resume') : '',
            ['draft', 'scheduled', 'sending', 'paused'].includes(f.status) ? el('button', { type: 'button', on: { click: () => void act(f.id, 'cancel') } }, 'Cancel') : '',
          ),
        ),
      ),
    );
    clearTimeout(timer);
    if (container.isConnected && items.some((f) => f.status === 'sending' || f.status === 'scheduled')) timer = setTimeout(() => void refresh(), 1000);
  }

  container.replaceChildren(el('h3', {}, 'Broadcasts'), form, status, list);
  api.on?.('broadcast', () => void refresh());
  void count();
  void refresh();
  return () => clearTimeout(timer);
}
