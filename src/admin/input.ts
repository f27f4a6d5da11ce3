// Turning request input into typed values with zod, and zod's verdicts into one 400 that names
// every problem as "<field>: <what is wrong>", so a caller can fix them all in one go.
import type { z } from 'zod';
import { AppError, isAppError } from '../errors/app-error.ts';

type Where = 'body' | 'query';

const fieldOf = (path: readonly PropertyKey[], where: Where): string => (path.length ? path.map(String).join('.') : where);

function describeIssue(issue: z.core.$ZodIssue, where: Where): string[] {
  if (issue.code === 'unrecognized_keys') {
    const prefix = issue.path.length ? `${fieldOf(issue.path, where)}.` : '';
    return issue.keys.map((k) => `${prefix}${k}: unknown ${where === 'query' ? 'parameter' : 'field'}`);
  }
  return [`${fieldOf(issue.path, where)}: ${issue.message}`];
}

// zod's default for a missing value is "expected string, received undefined".
const messages: z.core.$ZodErrorMap = (issue) => (issue.code === 'invalid_type' && issue.input === undefined ? 'is required' : undefined);

export function parseInput<T extends z.ZodType>(schema: T, value: unknown, where: Where): z.output<T> {
  const result = schema.safeParse(value, { error: messages });
  if (result.success) return result.data;
  throw new AppError('invalid_request', result.error.issues.flatMap((i) => describeIssue(i, where)).join('; '));
}

/**
 * A zod refinement that applies one of the governance rules (src/governance/validation.ts and
 * friends), so the edge and the governance functions enforce the same rule with the same words.
 * `what` is the name the rule uses in its message; it is dropped because the field is named
 * already ("description: must not be empty").
 */
export function governed(check: (value: string) => unknown, what?: string) {
  return (value: string, ctx: z.RefinementCtx): void => {
    try {
      check(value);
    } catch (err) {
      if (!isAppError(err)) throw err;
      const message = what && err.message.startsWith(`${what} `) ? err.message.slice(what.length + 1) : err.message;
      ctx.addIssue({ code: 'custom', message });
    }
  };
}

/** The query string as single values; a parameter given twice is refused (parameter pollution). */
export function singleValuedQuery(query: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  const repeated: string[] = [];
  for (const [key, value] of Object.entries(query)) {
    if (Array.isArray(value)) repeated.push(`${key}: given more than once`);
    else if (value !== undefined) out[key] = value;
  }
  if (repeated.length) throw new AppError('invalid_request', repeated.join('; '));
  return out;
}

/** PATCH bodies must change something: an empty object is a mistake, not a no-op to record. */
export const nonEmptyPatch = <T extends z.ZodObject>(schema: T) =>
  schema.refine((v) => Object.keys(v).length > 0, { message: 'give at least one field to change' }).meta({ minProperties: 1 });
