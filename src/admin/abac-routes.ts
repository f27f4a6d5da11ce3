// Attribute-based access control (as `govauth user|client attr`, `resource|scope label`, `policy`):
// attributes and labels, network zones, Cedar policy set versions and explain.
import { z } from 'zod';
import { activatePolicyVersion, applyPolicies, listAttributes, listPolicyVersions, listZones, removeAttributes, removeZone, rollbackPolicy, setAttributes, setZone, showPolicyVersion, validatePolicies } from '../governance/abac/abac-admin.ts';
import { explainDecision } from '../governance/abac/abac-explain.ts';
import { POLICY_LIMITS } from '../governance/abac/cedar-policy-set.ts';
import { ATTRIBUTE_LIMITS, checkAttributeKey, checkAttributeValue, type AttributeSubject } from '../governance/abac/abac-model.ts';
import { governed } from './input.ts';
import { route, type Route } from './route.ts';

const attrKey = z.string().max(ATTRIBUTE_LIMITS.keyLength).superRefine(governed(checkAttributeKey)).describe('A key: a lower-case letter, then lower-case letters, digits, _ - . :');
const attrRecord = z
  .record(attrKey, z.string().max(ATTRIBUTE_LIMITS.valueLength))
  .superRefine((rec, ctx) => {
    if (Object.keys(rec).length > ATTRIBUTE_LIMITS.perSubject) ctx.addIssue({ code: 'custom', message: `at most ${ATTRIBUTE_LIMITS.perSubject} entries` });
    for (const [k, v] of Object.entries(rec)) governed((value: string) => checkAttributeValue(k, value))(v, ctx);
  })
  .describe(`key → value (values 1-${ATTRIBUTE_LIMITS.valueLength} printable characters; at most ${ATTRIBUTE_LIMITS.perSubject} per subject)`);

const SUBJECTS: { kind: AttributeSubject; collection: string; param: string; noun: 'attributes' | 'labels'; op: string }[] = [
  { kind: 'person', collection: 'users', param: 'email', noun: 'attributes', op: 'User' },
  { kind: 'client', collection: 'clients', param: 'id', noun: 'attributes', op: 'Client' },
  { kind: 'resource', collection: 'resources', param: 'audience', noun: 'labels', op: 'Resource' },
  { kind: 'scope', collection: 'scopes', param: 'name', noun: 'labels', op: 'Scope' },
];

const attributeRoutes: Route[] = SUBJECTS.flatMap(({ kind, collection, param, noun, op }) => {
  const path = `/${collection}/{${param}}/${noun}`;
  const cap = noun === 'attributes' ? 'Attributes' : 'Labels';
  const response = z.strictObject({ [noun]: z.record(z.string(), z.string()) });
  const name = (params: Record<string, string>): string => params[param] ?? '';
  return [
    route({
      method: 'GET', path, operationId: `get${op}${cap}`, summary: `The ${noun} of a ${collection.slice(0, -1)} (read by Cedar policies)`, tag: 'policies', access: 'read', errors: [404],
      response,
      handle: async ({ deps, params }) => ({ [noun]: await listAttributes(deps.db, kind, name(params)) }),
    }),
    route({
      method: 'PATCH', path, operationId: `set${op}${cap}`, summary: `Set (add or replace) ${noun} of a ${collection.slice(0, -1)}`, tag: 'policies', access: 'write', errors: [404],
      body: z.strictObject({ [noun]: attrRecord }), response,
      handle: async ({ deps, params, body, actor }) => ({ [noun]: await setAttributes(deps.db, kind, name(params), (body as Record<string, Record<string, string>>)[noun] ?? {}, actor, new Date(deps.now())) }),
    }),
    route({
      method: 'DELETE', path: `${path}/{key}`, operationId: `remove${op}${cap.slice(0, -1)}`, summary: `Remove one of the ${noun} of a ${collection.slice(0, -1)}`, tag: 'policies', access: 'write', errors: [404],
      response,
      handle: async ({ deps, params, actor }) => ({ [noun]: await removeAttributes(deps.db, kind, name(params), [(params as Record<string, string>).key ?? ''], actor) }),
    }),
  ];
});

const files = z
  .record(z.string().max(POLICY_LIMITS.fileNameLength), z.string().max(POLICY_LIMITS.fileBytes))
  .refine((r) => Object.keys(r).length >= 1 && Object.keys(r).length <= POLICY_LIMITS.files, `between 1 and ${POLICY_LIMITS.files} files`)
  .describe(`File name (ending in .cedar, at most ${POLICY_LIMITS.fileNameLength} characters) → Cedar policy text (at most ${POLICY_LIMITS.fileBytes} bytes a file, ${POLICY_LIMITS.setBytes} bytes together)`);

/**
 * The body limit of the two routes that take a policy set: one at POLICY_LIMITS fits however a
 * JSON encoder writes it. JSON may write any character as \uXXXX, six bytes for each byte of
 * UTF-8 at worst (an ASCII character; JSON.stringify writes control characters so, Python's
 * json.dumps every non-ASCII one), so six times the text, names included, plus per file the two
 * pairs of quotes, colon and comma and a pretty-printer's newline and indent, plus the envelope
 * ({"files":{…},"activate":false}). 6 × 1 MiB + 200 × 616 + 64 = 6,414,720 bytes (~6.1 MiB):
 * read into memory only for an authenticated caller (adminApi reads after the token check).
 */
const POLICY_BODY_BYTES = 6 * POLICY_LIMITS.setBytes + POLICY_LIMITS.files * (6 * POLICY_LIMITS.fileNameLength + 16) + 64;
const problem = z.strictObject({ policy: z.string().optional(), message: z.string() });
const report = z.strictObject({ valid: z.boolean(), policies: z.array(z.strictObject({ id: z.string(), file: z.string(), effect: z.string() })), problems: z.array(problem), warnings: z.array(z.string()) });
const versionView = z.strictObject({ version: z.number().int(), sha256: z.string(), created_at: z.string(), created_by: z.string(), active: z.boolean() });
const versionParam = (v: string): number => (/^\d{1,9}$/.test(v) ? Number(v) : -1);
const zone = z.strictObject({ name: z.string(), cidrs: z.array(z.string()) });
const verdict = z.strictObject({ permitted: z.boolean(), reason: z.string(), policies: z.array(z.string()), message: z.string() });

const policyRoutes: Route[] = [
  route({
    method: 'GET', path: '/policies', operationId: 'listPolicyVersions', summary: 'Stored Cedar policy set versions and which is active', tag: 'policies', access: 'read',
    response: z.strictObject({ versions: z.array(versionView) }),
    handle: async ({ deps }) => ({ versions: await listPolicyVersions(deps.db) }),
  }),
  route({
    method: 'POST', path: '/policies/validate', operationId: 'validatePolicies', summary: 'Validate Cedar policy files against the schema generated from the catalogue (nothing is stored)', tag: 'policies', access: 'read',
    body: z.strictObject({ files }), maxBodyBytes: POLICY_BODY_BYTES, response: report,
    handle: async ({ deps, body }) => validatePolicies(deps.db, body.files),
  }),
  route({
    method: 'POST', path: '/policies', operationId: 'applyPolicies', summary: 'Store Cedar policy files as a new version (refused unless valid) and activate it unless activate is false', tag: 'policies', access: 'write', status: 201,
    body: z.strictObject({ files, activate: z.boolean().optional() }), maxBodyBytes: POLICY_BODY_BYTES,
    response: z.strictObject({ version: z.number().int(), activated: z.boolean(), report }),
    handle: async ({ deps, body, actor }) => applyPolicies(deps.db, body.files, actor, new Date(deps.now()), { activate: body.activate !== false }),
  }),
  route({
    method: 'GET', path: '/policies/{version}', operationId: 'showPolicyVersion', summary: 'A stored version with its files', tag: 'policies', access: 'read', errors: [404],
    response: versionView.extend({ sources: z.record(z.string(), z.string()) }),
    handle: async ({ deps, params }) => showPolicyVersion(deps.db, versionParam(params.version)),
  }),
  route({
    method: 'PUT', path: '/policies/active', operationId: 'activatePolicyVersion', summary: 'Activate a stored version on every instance (null: none, roles only)', tag: 'policies', access: 'write', errors: [404],
    body: z.strictObject({ version: z.number().int().min(1).max(999_999_999).nullable() }),
    response: z.strictObject({ version: z.number().int().nullable(), previous: z.number().int().nullable() }),
    handle: async ({ deps, body, actor }) => activatePolicyVersion(deps.db, body.version, actor, new Date(deps.now())),
  }),
  route({
    method: 'POST', path: '/policies/rollback', operationId: 'rollbackPolicy', summary: 'Activate the version that was active before the current one', tag: 'policies', access: 'write',
    response: z.strictObject({ version: z.number().int().nullable(), previous: z.number().int().nullable() }),
    handle: async ({ deps, actor }) => rollbackPolicy(deps.db, actor, new Date(deps.now())),
  }),
  route({
    method: 'POST', path: '/policies/explain', operationId: 'explainPolicyDecision', summary: 'The decision for one scope, the policies that determined it and what would change it', tag: 'policies', access: 'read', errors: [404],
    body: z.strictObject({
      user: z.string().max(254).optional(), client: z.string().max(200).optional(), via: z.string().max(200).optional(),
      resource: z.string().max(512), scope: z.string().max(128),
      at: z.iso.datetime({ offset: true }).optional().describe('ISO 8601 instant; default now'),
      ip: z.union([z.ipv4(), z.ipv6()]).optional(), mfa: z.boolean().optional(), mfa_age: z.number().int().min(0).max(31_536_000).optional(),
      binding: z.enum(['dpop', 'mtls', 'none']).optional(), delegation_depth: z.number().int().min(0).max(10).optional(), version: z.number().int().min(1).optional(),
    }),
    response: z.strictObject({
      principal: z.string(), resource: z.string(), scope: z.string(), version: z.number().int().nullable(),
      roles: z.strictObject({ granted: z.boolean(), through: z.array(z.string()) }), policy: verdict.nullable(), decision: z.enum(['permit', 'deny']),
      context: z.record(z.string(), z.unknown()), wouldChange: z.array(z.string()),
    }),
    handle: async ({ deps, body }) => {
      const e = await explainDecision(deps.db, {
        user: body.user, client: body.client, via: body.via, resource: body.resource, scope: body.scope,
        at: body.at === undefined ? deps.now() : Date.parse(body.at), ip: body.ip, mfa: body.mfa, mfaAge: body.mfa_age,
        binding: body.binding === 'none' ? 'bearer' : body.binding, delegationDepth: body.delegation_depth, version: body.version,
      });
      return { ...e, roles: { ...e.roles }, policy: e.policy && { ...e.policy, policies: [...e.policy.policies] }, wouldChange: [...e.wouldChange] };
    },
  }),
  route({
    method: 'GET', path: '/policy-zones', operationId: 'listPolicyZones', summary: 'Network zones (context.zones) and their CIDR ranges', tag: 'policies', access: 'read',
    response: z.strictObject({ zones: z.array(zone) }),
    handle: async ({ deps }) => ({ zones: await listZones(deps.db) }),
  }),
  route({
    method: 'PUT', path: '/policy-zones/{name}', operationId: 'setPolicyZone', summary: 'Name a network zone by its CIDR ranges', tag: 'policies', access: 'write',
    body: z.strictObject({ cidrs: z.array(z.string().max(64)).min(1).max(ATTRIBUTE_LIMITS.zoneCidrs) }), response: z.strictObject({ zone }),
    handle: async ({ deps, params, body, actor }) => ({ zone: await setZone(deps.db, params.name, body.cidrs, actor, new Date(deps.now())) }),
  }),
  route({
    method: 'DELETE', path: '/policy-zones/{name}', operationId: 'removePolicyZone', summary: 'Remove a network zone', tag: 'policies', access: 'write', errors: [404],
    response: z.strictObject({ removed: z.string() }),
    handle: async ({ deps, params, actor }) => {
      await removeZone(deps.db, params.name, actor);
      return { removed: params.name };
    },
  }),
];

export const abacRoutes: readonly Route[] = [...attributeRoutes, ...policyRoutes];
