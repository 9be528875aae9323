import type { Static, TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { ValueErrorType } from '@sinclair/typebox/errors';

export type Validation<T> = { ok: true; value: T } | { ok: false; field: string; message: string };

/**
 * Compiles a schema once and returns a checker whose failure names the first offending field in
 * dotted form (`paymentAmount.value`), for a PARAM_ILLEGAL message a merchant can act on.
 */
export function compileValidator<S extends TSchema>(schema: S): (value: unknown) => Validation<Static<S>> {
  const compiled = TypeCompiler.Compile(schema);
  return (value) => {
    if (compiled.Check(value)) return { ok: true, value };
    const first = compiled.Errors(value).First();
    if (!first) return { ok: false, field: '(body)', message: 'the body does not match the schema' };
    const field = first.path.replace(/^\//, '').replace(/\//g, '.') || '(body)';
    return { ok: false, field, message: `${field}: ${describe(first.type, first.schema, first.value)}` };
  };
}

function describe(type: ValueErrorType, schema: TSchema, value: unknown): string {
  switch (type) {
    case ValueErrorType.ObjectRequiredProperty:
      return 'is required';
    case ValueErrorType.String:
      return 'must be a string';
    case ValueErrorType.Boolean:
      return 'must be a boolean';
    case ValueErrorType.Object:
      return 'must be an object';
    case ValueErrorType.StringMaxLength:
      return `must be at most ${String(schema['maxLength'])} characters`;
    case ValueErrorType.StringMinLength:
      return schema['minLength'] === 1
        ? 'must not be empty'
        : `must be at least ${String(schema['minLength'])} characters`;
    case ValueErrorType.StringPattern:
      return typeof schema['description'] === 'string'
        ? `must be ${schema['description']}`
        : `does not match ${String(schema['pattern'])}`;
    case ValueErrorType.Array:
      return 'must be an array';
    case ValueErrorType.ArrayMaxItems:
      return `must have at most ${String(schema['maxItems'])} items`;
    case ValueErrorType.Integer:
      return 'must be an integer';
    case ValueErrorType.Literal:
      return `must be ${JSON.stringify(schema['const'])}`;
    case ValueErrorType.Union:
      return `has an unsupported value ${JSON.stringify(value)?.slice(0, 40) ?? ''}`.trim();
    default:
      return 'has an illegal value';
  }
}

/**
 * The deepest nesting a request body may have (a real one is 4 or 5 levels deep). Deeper documents are
 * refused before any code walks them: hashing or serializing one 20,000 levels deep overflows the stack.
 */
export const MAX_JSON_DEPTH = 32;

/**
 * What makes valid JSON text unacceptable as a request body, or undefined: nesting deeper than
 * MAX_JSON_DEPTH, or a NUL character (`\u0000`), which PostgreSQL text cannot hold (a query with one fails).
 */
function bodyProblem(text: string): string | undefined {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) {
        if (text.startsWith('u0000', i + 1))
          return 'the request body must not contain NUL characters (\\u0000)';
        i++; // skip the escaped character
      } else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > MAX_JSON_DEPTH)
        return `the request body is nested more than ${MAX_JSON_DEPTH} levels deep`;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return undefined;
}

/** Parses a JSON object body; anything else (arrays, scalars, bad JSON, too deep, NUL) is refused. */
export function parseJsonObject(
  text: string,
): { ok: true; value: Record<string, unknown> } | { ok: false; message: string } {
  if (text.trim() === '') return { ok: false, message: 'the request body is empty' };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, message: 'the request body is not valid JSON' };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, message: 'the request body must be a JSON object' };
  }
  const problem = bodyProblem(text);
  if (problem) return { ok: false, message: problem };
  return { ok: true, value: value as Record<string, unknown> };
}
