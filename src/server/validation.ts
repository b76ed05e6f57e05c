/**
 * Schema validation for every route: two Ajv instances, because the parts of a request differ.
 * A JSON body is typed, so it is validated strictly (`"5"` is not a number). A query string or
 * a path parameter is text by nature, so it is coerced (`?limit=2` is the integer 2).
 */
import { Ajv, type Options } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';

// ajv-formats is CommonJS; its default export arrives wrapped under ESM.
const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule) as unknown as (ajv: Ajv) => Ajv;

const base: Options = { removeAdditional: false, useDefaults: true, allErrors: true, strict: false };

export function createValidatorCompiler(): FastifySchemaCompiler<unknown> {
  const strict = addFormats(new Ajv({ ...base, coerceTypes: false }));
  const coercing = addFormats(new Ajv({ ...base, coerceTypes: 'array' }));
  return ({ schema, httpPart }) => (httpPart === 'body' ? strict : coercing).compile(schema as object) as ReturnType<FastifySchemaCompiler<unknown>>;
}

/** The body validator on its own, for parts validated one by one (the items of a batch). */
export function createBodyAjv(): Ajv {
  return addFormats(new Ajv({ ...base, coerceTypes: false }));
}

/** The same field naming as the error handler: a missing or unknown property is named itself. */
export function problemPath(instancePath: string, params: unknown): string {
  const p = (params ?? {}) as { missingProperty?: string; additionalProperty?: string };
  const own = p.additionalProperty ?? p.missingProperty;
  const path = own ? `${instancePath}/${own}` : instancePath;
  return path.replace(/^\//, '').replace(/\//g, '.');
}
