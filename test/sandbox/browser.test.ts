/**
 * The sandbox page in a real browser (Debian's Chromium, driven by playwright-core), as a
 * newcomer uses it: on a desktop and on a 390×844 phone, log in, open the orders, an order
 * card, repeat it, move an order on in the shop panel and watch the notification arrive;
 * check that nothing is wider than the screen, that a refused message keeps its text and its
 * error stays until dismissed. Screenshots of the main screens go to test-output/sandbox/.
 *
 * Needs /usr/bin/chromium (`.ci/run` installs it); without it this file fails, saying so.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { runSandbox, type RunningSandbox } from './harness.js';

const CHROMIUM = '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const SHOTS = 'test-output/sandbox';

let run: RunningSandbox;
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium is not installed at ${CHROMIUM}: the sandbox browser test needs it. Install Debian's Chromium: \`apt-get update && apt-get install -y chromium\` (bash .ci/run does).`);
  }
  mkdirSync(SHOTS, { recursive: true });
  run = await runSandbox();
  browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await run?.close();
});

/** Nothing on the page is wider than the window (no sideways scrolling). */
async function expectNoHorizontalOverflow(page: Page, where: string): Promise<void> {
  // A string, evaluated in the page (this file is type-checked without the DOM library).
  const sizes = await page.evaluate<{ page: number; body: number; window: number }>('({ page: document.documentElement.scrollWidth, body: document.body.scrollWidth, window: window.innerWidth })');
  expect(`${where}: page ${sizes.page}px, body ${sizes.body}px`).toBe(`${where}: page ${Math.min(sizes.page, sizes.window)}px, body ${Math.min(sizes.body, sizes.window)}px`);
}

/** Waits (10 s unless told) for what a user would see; fails naming what never appeared. */
async function until(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Never happened: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
const visible = (l: Locator) => l.waitFor({ state: 'visible', timeout: 10_000 });
async function hasText(l: Locator, text: string | RegExp): Promise<void> {
  await visible(l);
  let last = '';
  await until(`text ${text}`, async () => {
    last = (await l.textContent()) ?? '';
    return typeof text === 'string' ? last.includes(text) : text.test(last);
  }).catch((err: Error) => { throw new Error(`${err.message}; the text was: ${last.slice(0, 300)}`); });
}
async function countIs(l: Locator, n: number): Promise<void> {
  await until(`${n} of ${l}`, async () => (await l.count()) === n);
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: `${SHOTS}/${name}.png` });
}

const bot = (page: Page) => page.locator('#messages .msg.bot');

interface Viewport { name: string; width: number; height: number; phone: boolean; person: string; orderNumber: string; language: 'ru' | 'en' }

const VIEWPORTS: Viewport[] = [
  { name: 'desktop', width: 1366, height: 860, phone: false, person: 'telegram:1001', orderNumber: 'K-10004', language: 'ru' },
  { name: 'phone', width: 390, height: 844, phone: true, person: 'telegram:1003', orderNumber: 'K-30004', language: 'en' },
];

describe.each(VIEWPORTS)('sandbox page on a $name ($width×$height)', (vp) => {
  let page: Page;
  const words = vp.language === 'ru'
    ? { loggedIn: /вошли/i, menu: /Личный кабинет/, orders: /Заказы/, repeat: /Повторить заказ/, cart: /корзин/i, login: /Войти/ }
    : { loggedIn: /logged in/i, menu: /Your account/, orders: /Orders/, repeat: /Repeat order/, cart: /cart/i, login: /Log in/ };
  const tab = async (name: string) => {
    if (vp.phone) await page.locator(`.tabs button[data-tab="${name}"]`).click();
    else if (['shop', 'staff', 'broadcasts'].includes(name)) await page.locator(`.side-tabs button[data-tab="${name}"]`).click();
  };

  beforeAll(async () => {
    const context = await browser.newContext({ viewport: { width: vp.width, height: vp.height }, ...(vp.phone ? { isMobile: true, hasTouch: true, deviceScaleFactor: 2 } : {}) });
    page = await context.newPage();
    page.on('dialog', (d) => void d.accept());
    const failed: string[] = [];
    page.on('response', (r) => { if (r.status() === 404 && !/\/sandbox\/(staff|broadcasts)\.js$/.test(r.url())) failed.push(r.url()); });
    await page.goto(`${run.base}/sandbox?person=${vp.person}`);
    await page.locator('#live.on').waitFor();
    expect(failed).toEqual([]); // the favicon and every file the page loads exist
  });

  afterAll(async () => {
    await page?.context().close();
  });

  it('opens on the chat with a hint to press /start, and every tab fits the screen', async () => {
    await hasText(page.locator('#messages .hint'), '/start');
    await shot(page, `${vp.name}-1-start`);
    await expectNoHorizontalOverflow(page, 'chat');
    for (const name of vp.phone ? ['people', 'shop', 'staff', 'broadcasts', 'chat'] : ['staff', 'broadcasts', 'shop']) {
      await tab(name);
      await visible(page.locator(`#panel-${name}`));
      if (vp.phone) {
        // One section at a time on a phone.
        const visible = await page.locator('main .panel:visible').count();
        expect(`${name}: ${visible}`).toBe(`${name}: 1`);
        if (name === 'people') await shot(page, `${vp.name}-2-people`);
      }
      await expectNoHorizontalOverflow(page, name);
    }
    // The panels of features that have not landed say so instead of breaking the page.
    for (const id of ['#staff', '#broadcasts']) await until(`${id} filled`, async () => ((await page.locator(id).textContent()) ?? '').trim().length > 0);
    await tab('chat');
  });

  it('logs in, opens the orders, an order card, and repeats the order', async () => {
    await page.locator('#messages .hint button').click();
    await visible(bot(page).first());
    const contact = page.locator('#keyboard button.contact');
    if (!(await contact.isVisible())) await page.locator('#messages .msg.bot').last().getByRole('button', { name: words.login }).click();
    await contact.click();
    await countIs(bot(page).filter({ hasText: words.loggedIn }), 1);
    // The account menu follows the login; a person taps a section in it.
    await visible(bot(page).filter({ hasText: words.menu }).last());
    await shot(page, `${vp.name}-3-logged-in`);

    // Callback buttons edit their message in place, as in Telegram: look in the whole chat.
    const chat = page.locator('#messages');
    await bot(page).filter({ hasText: words.menu }).last().getByRole('button', { name: words.orders }).click();
    const orderButton = chat.getByRole('button', { name: /K-\d{5}/ }).first();
    await visible(orderButton);
    const number = /K-\d{5}/.exec((await orderButton.textContent()) ?? '')![0];
    await orderButton.click();
    const card = bot(page).filter({ hasText: number }).filter({ has: page.getByRole('button', { name: words.repeat }) }).last();
    await visible(card);
    await shot(page, `${vp.name}-4-order-card`);
    await expectNoHorizontalOverflow(page, 'order card');

    await card.getByRole('button', { name: words.repeat }).click();
    const preview = bot(page).filter({ hasText: number }).filter({ has: page.getByRole('button', { name: words.cart }) }).last();
    await visible(preview);
    await preview.getByRole('button', { name: words.cart }).click();
    await visible(chat.locator('.msg.bot button', { hasText: '↗' }).last());
    await shot(page, `${vp.name}-5-repeat-order`);
    // Fast clicks (a burst over Telegram's per-chat limit) are waited out, not failed.
    expect(await bot(page).filter({ hasText: /Что-то пошло не так|Something went wrong/ }).count()).toBe(0);
  });

  it('moves the order on in the shop panel and the notification arrives in the chat', async () => {
    await tab('shop');
    const card = page.locator(`.order[data-number="${vp.orderNumber}"]`);
    await hasText(card.locator('[data-role="status"]'), /^assembling$/);
    // Only the moves a shop makes: no way back to "created".
    await visible(card.locator('button[data-status="shipped"]'));
    expect(await card.locator('button[data-status="created"]').count()).toBe(0);
    await shot(page, `${vp.name}-6-shop`);
    await expectNoHorizontalOverflow(page, 'shop');
    const before = await bot(page).count();
    await card.locator('button[data-status="shipped"]').click();
    await hasText(card.locator('[data-role="status"]'), /^shipped$/);
    await tab('chat');
    await hasText(bot(page).nth(before), vp.orderNumber);
    await shot(page, `${vp.name}-7-notification`);
  });

  it('wraps a long unbroken text, and keeps a refused message in the composer with its error until dismissed', async () => {
    const composer = page.locator('#text');
    await composer.fill('asdf'.repeat(1000));
    await page.locator('#compose button[type="submit"]').click();
    await hasText(page.locator('#messages .msg.user').last(), 'asdfasdf');
    await until('composer cleared', async () => (await composer.inputValue()) === '');
    await expectNoHorizontalOverflow(page, 'long text');

    const tooLong = 'x'.repeat(4500);
    await composer.fill(tooLong);
    await page.locator('#compose button[type="submit"]').click();
    const error = page.locator('#errors .error');
    await hasText(error, 'at most 4096');
    expect(await composer.inputValue()).toBe(tooLong);
    // Pushed updates do not clear it: a bot message arrives meanwhile, the error stays.
    const bots = await bot(page).count();
    run.sandbox.telegram.sendText(run.sandbox.telegramToken, Number(vp.person.split(':')[1]), '/start');
    await until('the bot answered /start', async () => (await bot(page).count()) > bots);
    expect(await error.isVisible()).toBe(true);
    expect(await composer.inputValue()).toBe(tooLong);
    await shot(page, `${vp.name}-8-error`);
    await expectNoHorizontalOverflow(page, 'error');
    await error.getByRole('button', { name: 'Dismiss' }).click();
    await countIs(page.locator('#errors .error'), 0);
  });
});

describe('sandbox page: VK login with a number the page did not choose, then a reset', () => {
  let page: Page;

  beforeAll(async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
    page = await context.newPage();
    page.on('dialog', (d) => void d.accept());
    await page.goto(`${run.base}/sandbox?person=vk:506&tab=chat`);
    await page.locator('#live.on').waitFor();
  });

  afterAll(async () => {
    await page?.context().close();
  });

  it('shows the SMS sent to any number, so a VK login with it goes through', async () => {
    await page.locator('#messages .hint button').click();
    await visible(bot(page).first());
    // VK has no contact button: the person types a phone, here Мария's (the page chose "new customer").
    await page.locator('#keyboard').getByRole('button', { name: /Войти/ }).or(bot(page).last().getByRole('button', { name: /Войти/ })).first().click();
    await hasText(bot(page).last(), /номер телефона/);
    await page.locator('#text').fill('+79990000004');
    await page.locator('#compose button[type="submit"]').click();
    const sms = page.locator('#sms-latest .sms');
    await hasText(sms, 'SMS to +79990000004');
    const code = /\b(\d{6})\b/.exec((await sms.textContent()) ?? '')![1]!;
    await shot(page, 'phone-9-vk-sms');
    await page.locator('#text').fill(code);
    await page.locator('#compose button[type="submit"]').click();
    await countIs(bot(page).filter({ hasText: /вошли/i }), 1);
    await expectNoHorizontalOverflow(page, 'vk login');
  });

  it('resets the demo from the button: the chat is empty again with its /start hint', async () => {
    await page.locator('#reset').click();
    // A reset empties and seeds the database again: seconds, more on a busy machine.
    await until('the chat emptied by the reset', async () => (await page.locator('#messages .hint').count()) === 1, 60_000);
    await hasText(page.locator('#messages .hint'), '/start');
    await until('the SMS list emptied', async () => (await page.locator('#sms-all .sms').count()) === 0);
    expect(await run.ctx.prisma.channelIdentity.count()).toBe(0);
    expect(await run.ctx.prisma.order.count({ where: { number: 'K-10004', status: 'assembling' } })).toBe(1);
  });
});
