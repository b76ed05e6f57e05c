// The sandbox's staff view (a browser ES module): the staff group's topics, a topic's messages
// with the customer card and its buttons, and a composer to answer as the demo operator
// (reply, "//" note, take / close by the card's buttons). Contract: mount(container, api) where
// api.get(path) / api.post(path, body) return parsed JSON (throwing on non-2xx) and
// api.on(type, handler) may push events; this view also polls, so a no-op `on` is fine.

const POLL_MS = 1500;

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') node.className = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

// Card texts are HTML made by the staff bot from escaped values; only <b>, <i>, <code> are kept.
function richText(text) {
  const box = el('div', { class: 'staff-text' });
  const parts = String(text).split(/(<\/?(?:b|i|code)>)/g);
  const stack = [box];
  for (const part of parts) {
    const open = /^<(b|i|code)>$/.exec(part);
    const close = /^<\/(b|i|code)>$/.exec(part);
    if (open) {
      const child = el(open[1]);
      stack.at(-1).append(child);
      stack.push(child);
    } else if (close) {
      if (stack.length > 1) stack.pop();
    } else if (part) {
      const decoded = part.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
      decoded.split('\n').forEach((line, i) => {
        if (i > 0) stack.at(-1).append(el('br'));
        stack.at(-1).append(document.createTextNode(line));
      });
    }
  }
  return box;
}

const KIND_LABEL = { photo: '🖼 фото', document: '📎 файл', voice: '🎤 голосовое', audio: '🎵 аудио', video: '🎬 видео', video_note: '⏺ видеосообщение', animation: 'GIF', sticker: '🙂 стикер', closed: '— тема закрыта —', reopened: '— тема открыта —' };

const STYLE = `
.staff-view{display:grid;grid-template-columns:minmax(180px,260px) 1fr;gap:12px;height:100%;min-height:420px;font:14px/1.4 system-ui,sans-serif}
.staff-topics{border:1px solid #ddd;border-radius:8px;overflow:auto;background:#fafafa}
.staff-topics h3,.staff-thread h3{margin:0;padding:8px 10px;font-size:13px;color:#555;border-bottom:1px solid #eee}
.staff-topic{display:block;width:100%;text-align:left;padding:8px 10px;border:0;border-bottom:1px solid #eee;background:none;cursor:pointer}
.staff-topic.active{background:#e8f0fe}.staff-topic.closed{color:#888}
.staff-thread{display:flex;flex-direction:column;border:1px solid #ddd;border-radius:8px;min-height:0}
.staff-messages{flex:1;overflow:auto;padding:10px;display:flex;flex-direction:column;gap:8px;background:#f4f6f8}
.staff-msg{max-width:85%;padding:8px 10px;border-radius:8px;background:#fff;box-shadow:0 1px 1px #0001}
.staff-msg.operator{align-self:flex-end;background:#dcf8c6}.staff-msg.note{background:#fff6d5}
.staff-msg .who{font-size:11px;color:#777;margin-bottom:2px}.staff-msg .kind{font-size:12px;color:#555}
.staff-buttons{display:flex;flex-direction:column;gap:4px;margin-top:6px}.staff-buttons div{display:flex;gap:4px}
.staff-buttons button{flex:1;padding:4px 6px;border:1px solid #c7d7ee;background:#eef4fd;border-radius:6px;cursor:pointer}
.staff-compose{display:flex;gap:6px;padding:8px;border-top:1px solid #eee;align-items:center}
.staff-compose input[type=text]{flex:1;padding:6px 8px}.staff-empty{color:#888;padding:16px}
.staff-error{color:#b00020;font-size:12px;padding:0 10px}
`;

export function mount(container, api) {
  let activeThread = null;
  let timer = null;
  let stopped = false;
  let lastRendered = '';
  let operatorName = 'оператор';

  const topicsBox = el('div', { class: 'staff-topics' }, el('h3', {}, 'Темы группы поддержки'));
  const topicList = el('div');
  topicsBox.append(topicList);
  const title = el('h3', {}, 'Выберите тему');
  const messagesBox = el('div', { class: 'staff-messages' }, el('div', { class: 'staff-empty' }, 'Когда покупатель нажмёт «Связаться с человеком», здесь появится тема с его карточкой.'));
  const input = el('input', { type: 'text', placeholder: 'Ответ покупателю…', maxlength: 4096, disabled: true });
  const note = el('input', { type: 'checkbox', id: 'staff-note' });
  const error = el('div', { class: 'staff-error' });
  const send = el('button', { type: 'submit', disabled: true }, 'Отправить');
  const form = el('form', { class: 'staff-compose', onsubmit: onSend }, input, el('label', { for: 'staff-note', title: 'Заметка видна только сотрудникам' }, note, ' заметка'), send);
  const thread = el('div', { class: 'staff-thread' }, title, messagesBox, error, form);
  const root = el('div', { class: 'staff-view' }, el('style', {}, STYLE), topicsBox, thread);
  container.append(root);

  async function onSend(event) {
    event.preventDefault();
    const text = input.value.trim();
    if (!text || activeThread === null) return;
    try {
      await api.post('/sandbox/api/staff/send', { threadId: activeThread, text, note: note.checked });
      input.value = '';
      note.checked = false;
      error.textContent = '';
      await refresh();
    } catch (err) {
      error.textContent = `Не отправлено: ${err.message ?? err}`;
    }
  }

  async function press(messageId, data) {
    try {
      await api.post('/sandbox/api/staff/press', { messageId, data });
      error.textContent = '';
      setTimeout(refresh, 300);
    } catch (err) {
      error.textContent = `Кнопка не сработала: ${err.message ?? err}`;
    }
  }

  function renderTopics(topics) {
    topicList.replaceChildren(
      ...(topics.length
        ? topics.map((t) =>
            el('button', { class: `staff-topic${t.threadId === activeThread ? ' active' : ''}${t.closed ? ' closed' : ''}`, onclick: () => select(t.threadId, t.name) }, t.name),
          )
        : [el('div', { class: 'staff-empty' }, 'Пока нет обращений.')]),
    );
  }

  function renderMessages(messages) {
    const key = JSON.stringify(messages);
    if (key === lastRendered) return;
    lastRendered = key;
    const atBottom = messagesBox.scrollHeight - messagesBox.scrollTop - messagesBox.clientHeight < 40;
    messagesBox.replaceChildren(
      ...messages.map((m) => {
        const isNote = m.from === 'operator' && /^(\/\/|\/note\b)/.test(m.text);
        const box = el('div', { class: `staff-msg ${m.from}${isNote ? ' note' : ''}` }, el('div', { class: 'who' }, m.from === 'bot' ? 'бот (покупатель / служебное)' : `${m.author ?? operatorName}${isNote ? ' · заметка' : ''}`));
        if (m.kind !== 'text') box.append(el('div', { class: 'kind' }, KIND_LABEL[m.kind] ?? m.kind));
        if (m.text) box.append(m.from === 'bot' ? richText(m.text) : el('div', {}, m.text));
        if (m.buttons.length) {
          box.append(el('div', { class: 'staff-buttons' }, ...m.buttons.map((row) => el('div', {}, ...row.map((b) => el('button', { type: 'button', disabled: !b.data, onclick: () => press(m.id, b.data) }, b.label))))));
        }
        return box;
      }),
    );
    if (atBottom) messagesBox.scrollTop = messagesBox.scrollHeight;
  }

  async function select(threadId, name) {
    activeThread = threadId;
    lastRendered = '';
    title.textContent = name;
    input.disabled = false;
    send.disabled = false;
    input.focus();
    await refresh();
  }

  async function refresh() {
    try {
      const { topics } = await api.get('/sandbox/api/staff/topics');
      renderTopics(topics);
      const current = topics.find((t) => t.threadId === activeThread);
      if (current) title.textContent = current.name;
      if (activeThread !== null) {
        const { messages } = await api.get(`/sandbox/api/staff/topics/${activeThread}/messages`);
        renderMessages(messages);
      }
    } catch (err) {
      error.textContent = `Нет связи с сервером: ${err.message ?? err}`;
    }
  }

  async function loop() {
    if (stopped) return;
    await refresh();
    if (!stopped) timer = setTimeout(loop, POLL_MS);
  }

  api.get('/sandbox/api/staff').then((info) => { operatorName = info.operator?.name ?? operatorName; }, () => undefined);
  try {
    api.on?.('staff', () => refresh());
  } catch {
    // Events are optional: the view polls.
  }
  loop();

  return {
    unmount() {
      stopped = true;
      clearTimeout(timer);
      root.remove();
    },
  };
}
