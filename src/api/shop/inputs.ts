/**
 * Input rules the JSON schemas cannot say.
 *
 * NUL (U+0000) is valid JSON but PostgreSQL refuses it in text and jsonb. The API drops it
 * from every string of a verified body, path parameter and query value, as the bot does with
 * every update (src/lib/strip-nul.ts), so a NUL never turns a write or a batch into a 500 and
 * the product treats it one way everywhere. The signature covers the bytes as sent.
 *
 * Nesting deeper than any body of this API needs is refused before anything walks it
 * recursively.
 */

import { MAX_JSON_DEPTH } from '../../lib/json-depth.js';

/** Deeper than any shop API body (the deepest is `order.items.N.field`); the one limit of every JSON edge (src/lib/json-depth.ts). */
export const MAX_DEPTH = MAX_JSON_DEPTH;

export const DEPTH_MESSAGE = `is nested deeper than ${MAX_DEPTH} levels`;

export { findTooDeep } from '../../lib/json-depth.js';
