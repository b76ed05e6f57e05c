/** Every button of the customer bot, per feature, with its typed callback data. */
import { defineCallbacks } from './callback-data.js';

export const menuCb = defineCallbacks('m', {
  home: [],
  login: [],
  /** The cancel button of a text prompt: leaves the flow, back to the menu. */
  cancel: [],
});

export const ordersCb = defineCallbacks('o', {
  list: [['page', 'int']],
  card: [['id', 'uuid'], ['page', 'int']],
  track: [['id', 'uuid'], ['page', 'int']],
  /** A further page of a long tracking timeline (`at` 0 = the newest events). */
  trackAt: [['id', 'uuid'], ['page', 'int'], ['at', 'int']],
  repeat: [['id', 'uuid'], ['page', 'int']],
  cart: [['id', 'uuid']],
});

export const wishlistCb = defineCallbacks('w', {
  list: [],
  page: [['page', 'int']],
  item: [['id', 'uuid']],
  add: [['id', 'uuid']],
  remove: [['id', 'uuid']],
  alert: [['id', 'uuid'], ['kind', 'word'], ['on', 'bool']],
  search: [],
});

export const loyaltyCb = defineCallbacks('y', {
  show: [],
});

export const profileCb = defineCallbacks('p', {
  show: [],
  name: [],
  email: [],
  birthday: [],
  notify: [['kind', 'word'], ['on', 'bool']],
  languages: [],
  language: [['code', 'word']],
  logout: [],
  logoutConfirm: [],
  /** The answer to "may we send you promotions?" (after an account was created, or from the profile). */
  consent: [['on', 'bool']],
});

export const addressesCb = defineCallbacks('a', {
  list: [],
  item: [['id', 'uuid']],
  add: [],
  edit: [['id', 'uuid']],
  remove: [['id', 'uuid']],
  removeConfirm: [['id', 'uuid']],
  makeDefault: [['id', 'uuid']],
});

export const helpCb = defineCallbacks('h', {
  show: [],
  topic: [['topic', 'word']],
  human: [],
});

export const HELP_TOPICS = ['faq', 'delivery', 'payment', 'returns'] as const;
export type HelpTopic = (typeof HELP_TOPICS)[number];
