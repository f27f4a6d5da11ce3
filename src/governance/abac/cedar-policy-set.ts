// A Cedar policy set as govauth keeps it: files of Cedar text, split into policies with stable
// ids (an @id("...") annotation, else file#n), validated against the schema generated from the
// catalogue (cedar-schema.ts), and compiled once per version: cedar-wasm keeps the parsed set
// (preparsePolicySet) and every request only names it (statefulIsAuthorized).
// https://docs.cedarpolicy.com/policies/syntax-policy.html
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import type { PolicySnapshot } from '../policy-model.ts';
import { policyStarts, positionInPolicy, positionOf, positionOfByte } from './cedar-positions.ts';
import { cedarSchema } from './cedar-schema.ts';

/** File name → Cedar text, as applied. */
export type PolicySources = Readonly<Record<string, string>>;

/**
 * How much one policy set may hold, wherever it comes from (CLI, admin API, console).
 * fileNameLength counts the whole name, ".cedar" included. setBytes caps all files' text
 * together (UTF-8): 2,000 policies of ~500 bytes, or four files at fileBytes. Without it the
 * per-file caps alone allow 50 MiB in one stored row, loaded by every instance, which no request
 * body limit could sensibly admit (admin/abac-routes.ts derives its body limit from these).
 */
export const POLICY_LIMITS = { files: 200, fileNameLength: 100, fileBytes: 256 * 1024, setBytes: 1024 * 1024, policies: 2000 } as const;

/**
 * A policy file name: letters, digits, '_', '-', '.', ending in .cedar, at most
 * POLICY_LIMITS.fileNameLength characters in all. The one rule, also the console's name field's
 * pattern (HTML anchors it; '\-' keeps it valid under the 'v' flag browsers compile it with).
 */
export const POLICY_FILE_NAME = new RegExp(`^[A-Za-z0-9][A-Za-z0-9_.\\-]{0,${POLICY_LIMITS.fileNameLength - '.cedar'.length - 1}}\\.cedar$`);
const POLICY_ID = /^[A-Za-z0-9][A-Za-z0-9_.:#-]{0,127}$/;

export interface ParsedPolicy {
  readonly id: string;
  readonly file: string;
  readonly effect: 'permit' | 'forbid';
  readonly text: string;
  /** Its @reason("...") annotation: the sentence the consent page and explain show. */
  readonly reason: string | undefined;
  /** Where its text starts in its file (characters), for error positions; undefined if not found. */
  readonly start: number | undefined;
}

export interface PolicyProblem {
  policy?: string;
  message: string;
}

const firstMessage = (errors: readonly { message: string }[]): string => errors.map((e) => e.message).join('; ');

/** Cedar's errors for one file, each prefixed with where it is (file:line:column) when Cedar says. */
function fileErrors(file: string, text: string, errors: readonly cedar.DetailedError[]): string {
  return errors.map((e) => {
    const at = e.sourceLocations?.[0];
    const label = at?.label ? ` (${at.label})` : '';
    return at ? `${positionOfByte(file, text, at.start)}: ${e.message}${label}` : `${file}: ${e.message}`;
  }).join('; ');
}

/** Splits the files into policies with ids; problems for anything that does not parse. */
function parsePolicySources(sources: PolicySources): { policies: ParsedPolicy[]; problems: PolicyProblem[] } {
  const policies: ParsedPolicy[] = [];
  const problems: PolicyProblem[] = [];
  const files = Object.keys(sources).sort();
  if (files.length > POLICY_LIMITS.files) return { policies, problems: [{ message: `at most ${POLICY_LIMITS.files} policy files` }] };
  const total = files.reduce((sum, file) => sum + Buffer.byteLength(sources[file] ?? ''), 0);
  if (total > POLICY_LIMITS.setBytes) return { policies, problems: [{ message: `the files together are larger than ${POLICY_LIMITS.setBytes} bytes (${total})` }] };
  const seen = new Set<string>();
  for (const file of files) {
    const text = sources[file] ?? '';
    if (!POLICY_FILE_NAME.test(file)) problems.push({ message: `${JSON.stringify(file.slice(0, 120))}: a policy file name is letters, digits, '_', '-', '.', ends in .cedar and has at most ${POLICY_LIMITS.fileNameLength} characters` });
    else if (Buffer.byteLength(text) > POLICY_LIMITS.fileBytes) problems.push({ message: `${file}: larger than ${POLICY_LIMITS.fileBytes} bytes` });
    else {
      const parts = cedar.policySetTextToParts(text);
      if (parts.type === 'failure') {
        problems.push({ message: fileErrors(file, text, parts.errors) });
        continue;
      }
      if (parts.policy_templates.length) problems.push({ message: `${file}: policy templates are not supported; write static policies` });
      const starts = policyStarts(text, parts.policies);
      parts.policies.forEach((policyText, i) => {
        const json = cedar.policyToJson(policyText);
        if (json.type === 'failure') {
          problems.push({ message: `${file}: ${firstMessage(json.errors)}` });
          return;
        }
        const id = json.json.annotations?.id ?? `${file.replace(/\.cedar$/, '')}#${i + 1}`;
        if (!POLICY_ID.test(id)) problems.push({ policy: id.slice(0, 128), message: `${file}: policy id ${JSON.stringify(id.slice(0, 128))} must be letters, digits, '_', '.', ':', '#', '-' (at most 128)` });
        else if (seen.has(id)) problems.push({ policy: id, message: `${file}: policy id ${id} is used twice` });
        else {
          seen.add(id);
          policies.push({ id, file, effect: json.json.effect, text: policyText, reason: json.json.annotations?.reason, start: starts[i] });
        }
      });
    }
  }
  if (policies.length > POLICY_LIMITS.policies) problems.push({ message: `at most ${POLICY_LIMITS.policies} policies` });
  return { policies, problems };
}

/** Parse, then validate against the schema of the current catalogue; the problems, none when it may be activated. */
export function validatePolicySources(snapshot: PolicySnapshot, sources: PolicySources): { policies: ParsedPolicy[]; problems: PolicyProblem[]; warnings: string[] } {
  const { policies, problems } = parsePolicySources(sources);
  const warnings: string[] = [];
  // Text read leniently (a file read as UTF-8, a form field) carries U+FFFD where its bytes were
  // not UTF-8: refused before it is stored, never silently kept as a different string. Only
  // here, not when compiling a stored version, so a version stored before stays loadable.
  for (const [file, text] of Object.entries(sources)) if (text.includes('\uFFFD')) problems.push({ message: `${positionOf(file, text, text.indexOf('\uFFFD'))}: not UTF-8 text (U+FFFD, the replacement character, stands where its bytes were not UTF-8)` });
  if (problems.length) return { policies, problems, warnings };
  const answer = cedar.validate({ schema: cedarSchema(snapshot), policies: { staticPolicies: Object.fromEntries(policies.map((p) => [p.id, p.text])) }, validationSettings: { mode: 'strict' } });
  if (answer.type === 'failure') return { policies, problems: [{ message: firstMessage(answer.errors) }], warnings };
  const byId = new Map(policies.map((p) => [p.id, p]));
  // "file:line:column: policy-id: message", or "policy-id: message" when the place is unknown.
  const where = (id: string, error: cedar.DetailedError): string => {
    const p = byId.get(id);
    const at = error.sourceLocations?.[0];
    return p && p.start !== undefined && at ? `${positionInPolicy(p.file, sources[p.file] ?? '', p.start, p.text, at.start)}: ${id}` : id;
  };
  for (const e of answer.validationErrors) problems.push({ policy: e.policyId, message: `${where(e.policyId, e.error)}: ${e.error.message}${e.error.help ? ` (${e.error.help})` : ''}` });
  for (const w of answer.validationWarnings) warnings.push(`${where(w.policyId, w.error)}: ${w.error.message}`);
  // Cedar denies what no policy permits: a set of forbids alone would refuse every scope.
  if (!policies.some((p) => p.effect === 'permit')) warnings.push('no policy permits anything: with this set active every scope is refused (add e.g. permit(principal, action, resource);)');
  return { policies, problems, warnings };
}

class PolicyCompileError extends Error {}

export interface CompiledPolicySet {
  readonly version: number;
  /** The name cedar-wasm keeps it under. */
  readonly handle: string;
  readonly policies: ReadonlyMap<string, ParsedPolicy>;
}

/**
 * Compiles a stored version for evaluation (no schema: it was validated when applied, and a
 * scope deleted since must not make the active set unloadable). Throws PolicyCompileError when
 * the text no longer parses (fail closed: the caller refuses issuance).
 */
export function compilePolicySet(version: number, sha256: string, sources: PolicySources): CompiledPolicySet {
  const { policies, problems } = parsePolicySources(sources);
  if (problems.length) throw new PolicyCompileError(problems.map((p) => p.message).join('; '));
  const handle = `govauth-v${version}-${sha256.slice(0, 12)}`;
  const answer = cedar.preparsePolicySet(handle, { staticPolicies: Object.fromEntries(policies.map((p) => [p.id, p.text])) });
  if (answer.type === 'failure') throw new PolicyCompileError(firstMessage(answer.errors));
  return { version, handle, policies: new Map(policies.map((p) => [p.id, p])) };
}
