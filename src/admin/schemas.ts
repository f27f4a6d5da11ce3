// Field schemas shared by the admin API's routes. Types and bounds are checked by zod; the
// governance rules themselves (what a scope name may contain, what counts as an email, a
// password or an audience) are the functions the CLI goes through too, applied as refinements
// so the API cannot drift from them. The governance functions check again on their side.
import { z } from 'zod';
import { parseDuration, parseInstant } from '../governance/durations.ts';
import { checkPassword, PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '../governance/passwords.ts';
import { SENSITIVITIES } from '../governance/policy-model.ts';
import { normalizeEmail } from '../governance/user-registry.ts';
import { MAX_TTL_SECONDS } from '../config/token-limits.ts';
import { checkAudience, checkRedirectUri, checkRoleName, checkScopeName, checkText } from '../governance/validation.ts';
import { governed } from './input.ts';

export const scopeName = z
  .string()
  .max(128)
  .superRefine(governed(checkScopeName))
  .describe('A scope name: letters, digits and . _ : / - (at most 128 characters, starting with a letter or digit); not an OpenID Connect scope');

export const roleName = z
  .string()
  .max(64)
  .superRefine(governed(checkRoleName))
  .describe('A role name: lowercase letters, digits and . _ - (at most 64 characters)');

/** Free text: trimmed, not empty, no control characters (NUL included). */
export const text = (what: string, max: number, description: string) =>
  z
    .string()
    .max(max)
    .superRefine(governed((v) => checkText(v, what, max), what))
    .describe(`${description} (at most ${max} characters, no control characters)`);

export const audience = z
  .string()
  .max(512)
  .superRefine(governed(checkAudience))
  .describe('A resource indicator (RFC 8707): an absolute URI without a fragment');

export const redirectUri = z
  .string()
  .max(2048)
  .superRefine(governed(checkRedirectUri))
  .describe('An absolute redirect URI without a fragment; https except on loopback');

export const email = z.string().max(254).superRefine(governed(normalizeEmail)).describe('An email address (compared case-insensitively)');

export const password = z
  .string()
  .min(PASSWORD_MIN_LENGTH)
  .max(PASSWORD_MAX_LENGTH)
  .superRefine(governed(checkPassword, 'the password'))
  .describe(`A password (${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters, no control characters); never echoed or recorded`);

export const sensitivity = z.enum(SENSITIVITIES as readonly ['low', 'medium', 'high']).describe('How much harm misuse of the scope can do; high requires recent MFA for people');

export const ttl = (description: string) => z.number().int().min(1).max(MAX_TTL_SECONDS).describe(`${description}, in seconds (1 to ${MAX_TTL_SECONDS})`);

/** A list of names (duplicates are merged by the governance functions; the body limit bounds it too). */
export const list = <T extends z.ZodType>(item: T, max = 500) => z.array(item).max(max);

export const duration = z
  .string()
  .max(16)
  .superRefine(governed((v) => parseDuration(v, 'duration'), 'duration'))
  .describe('A duration such as 90s, 15m, 8h, 7d or 2w (at most 366 days)');

export const instant = z
  .string()
  .max(64)
  .superRefine(governed((v) => parseInstant(v, 0, 'time'), 'time'))
  .describe('An ISO 8601 time (2026-11-23T10:00:00Z), or a duration before now (7d)');

/** A whole number in a query string (digits only: no sign, point or exponent; never longer than max needs). */
export const queryInt = (min: number, max: number, description: string) =>
  z
    .string()
    .regex(new RegExp(`^\\d{1,${Math.max(6, String(max).length)}}$`), 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max))
    .describe(`${description} (${min} to ${max})`);

export const queryBool = (description: string) =>
  z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .describe(description);
