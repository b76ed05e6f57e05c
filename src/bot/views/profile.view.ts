import { InlineKeyboard } from 'grammy';
import type { AddressDto } from '../../domain/customers/addresses.js';
import type { ProfileDto } from '../../domain/customers/profile.js';
import { clip } from '../../lib/clip.js';
import { escapeHtml as e, formatDate } from '../html.js';
import { addressesCb, menuCb, profileCb } from '../keyboards/index.js';
import type { Screen, View } from './view.js';

export function profileScreen(view: View, p: ProfileDto): Screen {
  const { t, lang } = view;
  const notSet = t('profile.not_set');
  const name = [p.firstName, p.lastName].filter(Boolean).join(' ');
  // Promotions go out only with the customer's consent, so that is what "on" means here.
  const promotions = p.marketingConsent && p.notifyPromotions;
  const lines = [
    t('profile.title'),
    '',
    t('profile.name', { value: name ? e(name) : notSet }),
    t('profile.phone', { value: e(p.phone) }),
    t('profile.email', { value: p.email ? e(p.email) : notSet }),
    t('profile.birthday', { value: p.birthday ? formatDate(`${p.birthday}T12:00:00Z`, lang, 'UTC') : notSet }),
    t('profile.language', { value: t(`profile.languages.${lang}`) }),
    t('profile.notify_orders', { value: t(p.notifyOrderUpdates ? 'profile.on' : 'profile.off') }),
    t('profile.notify_promos', { value: t(promotions ? 'profile.on' : 'profile.off') }),
  ];
  const keyboard = new InlineKeyboard()
    .text(t('profile.buttons.name'), profileCb.encode('name'))
    .text(t('profile.buttons.email'), profileCb.encode('email'))
    .row();
  if (!p.birthday) keyboard.text(t('profile.buttons.birthday'), profileCb.encode('birthday'));
  keyboard
    .text(t('profile.buttons.addresses'), addressesCb.encode('list'))
    .row()
    .text(t(p.notifyOrderUpdates ? 'profile.buttons.notify_orders_on' : 'profile.buttons.notify_orders_off'), profileCb.encode('notify', { kind: 'orders', on: !p.notifyOrderUpdates }))
    .text(t(promotions ? 'profile.buttons.notify_promos_on' : 'profile.buttons.notify_promos_off'), profileCb.encode('notify', { kind: 'promos', on: !promotions }))
    .row()
    .text(t('profile.buttons.language'), profileCb.encode('languages'))
    .text(t('profile.buttons.logout'), profileCb.encode('logout'))
    .row()
    .text(t('menu.back'), menuCb.encode('home'));
  return { text: lines.join('\n'), keyboard };
}

export function languagesScreen(view: View, languages: string[]): Screen {
  const keyboard = new InlineKeyboard();
  for (const code of languages) keyboard.text(view.t(`profile.languages.${code}`), profileCb.encode('language', { code }));
  keyboard.row().text(view.t('menu.back'), menuCb.encode('home'));
  return { text: view.t('profile.languages.title'), keyboard };
}

export function addressLine(view: View, a: AddressDto): string {
  return view.t('addresses.line', {
    city: e(a.city), street: e(a.street), house: e(a.house),
    apartment: a.apartment ? view.t('addresses.apartment', { value: e(a.apartment) }) : '',
  });
}

export function addressesScreen(view: View, list: AddressDto[]): Screen {
  const { t } = view;
  const lines = [t('addresses.title'), ''];
  if (list.length === 0) lines.push(t('addresses.empty'));
  const keyboard = new InlineKeyboard();
  list.forEach((a, i) => {
    lines.push(`${i + 1}. ${addressLine(view, a)}${a.isDefault ? t('addresses.default_mark') : ''}`);
    // Button labels are plain text (no HTML), so they take raw values.
    keyboard.text(clip(`${i + 1}. ${a.city}, ${a.street} ${a.house}`, 60), addressesCb.encode('item', { id: a.id })).row();
  });
  keyboard.text(t('addresses.buttons.add'), addressesCb.encode('add')).row().text(t('addresses.buttons.profile'), profileCb.encode('show'));
  return { text: lines.join('\n'), keyboard };
}

export function addressCard(view: View, a: AddressDto): Screen {
  const { t } = view;
  const lines = [addressLine(view, a)];
  if (a.postcode) lines.push(t('addresses.card.postcode', { value: e(a.postcode) }));
  if (a.comment) lines.push(t('addresses.card.comment', { value: e(a.comment) }));
  if (a.isDefault) lines.push(t('addresses.card.default'));
  const keyboard = new InlineKeyboard().text(t('addresses.buttons.edit'), addressesCb.encode('edit', { id: a.id })).text(t('addresses.buttons.remove'), addressesCb.encode('remove', { id: a.id })).row();
  if (!a.isDefault) keyboard.text(t('addresses.buttons.make_default'), addressesCb.encode('makeDefault', { id: a.id })).row();
  keyboard.text(t('addresses.buttons.back'), addressesCb.encode('list'));
  return { text: lines.join('\n'), keyboard };
}
