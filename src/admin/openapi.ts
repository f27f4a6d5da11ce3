// The OpenAPI 3.1 document, generated from the route table: paths, parameters and request and
// response schemas come from the same zod schemas that validate requests (z.toJSONSchema,
// draft 2020-12, which is OpenAPI 3.1's schema dialect), so the document cannot describe an
// API other than the one served.
import { z } from 'zod';
import { ADMIN_AUDIENCE, ADMIN_ROLE, ADMIN_SCOPE, AUDIT_READ_SCOPE, AUDITOR_ROLE, REQUESTS_SCOPE } from '../governance/admin-model.ts';
import { MAX_BODY_BYTES } from '../http/body-limit.ts';
import { ADMIN_PREFIX, bodyLimitOf, type Route } from './route.ts';
import { errorBody } from './views.ts';

type Json = Record<string, unknown>;

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Json {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as Json;
  return rest;
}

const PARAMS: Record<string, string> = {
  name: 'The name (URL-encoded)',
  audience: 'The audience URI, URL-encoded (https%3A%2F%2Fmodels.example)',
  id: 'The client_id',
  email: 'The email address (URL-encoded)',
  role: 'The role name',
  kid: 'The key id (kid), as GET /keys lists it',
  delegation_id: 'The standing delegation id (sd_…)',
  policy_id: 'The delegation policy id (dp_…), as GET /delegation-policies lists it',
  event_id: 'The notification id (evt_…), as GET /notifications lists it',
};

const ERRORS: Record<number, [string, string]> = {
  400: ['BadRequest', 'Invalid input: every problem, as "<field>: <what is wrong>"'],
  401: ['Unauthorized', 'No access token, or one that is invalid, expired, revoked or not for the admin API'],
  403: ['Forbidden', 'The token lacks the scope this operation needs'],
  404: ['NotFound', 'No such object'],
  409: ['Conflict', 'It already exists, or the current state does not allow the change (withdrawing the only signing key; retrying a notification that has not failed; shortening a role grant in force without "replace"; re-enrolling TOTP without "force"; a role inclusion that would make a cycle; roles that would break a set of mutually exclusive roles)'],
  413: ['PayloadTooLarge', `The body exceeds the operation's limit: ${MAX_BODY_BYTES} bytes unless its request body says otherwise`],
  415: ['UnsupportedMediaType', 'The body is not application/json'],
};

const ref = (status: number): Json => ({ $ref: `#/components/responses/${ERRORS[status]?.[0] ?? ''}` });

function operation(route: Route): Json {
  const params = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1] ?? '');
  const queryShape = (route.query?.shape ?? {}) as Record<string, z.ZodType>;
  const parameters = [
    ...params.map((name) => ({ name, in: 'path', required: true, description: PARAMS[name] ?? name, schema: { type: 'string' } })),
    ...Object.entries(queryShape).map(([name, schema]) => {
      const json = jsonSchema(schema, 'input');
      const description = schema.description ?? json.description;
      return { name, in: 'query', required: !schema.safeParse(undefined).success, ...(typeof description === 'string' && { description }), schema: json };
    }),
  ];
  const statuses = [
    400,
    ...(route.access === 'public' ? [] : [401, 403]),
    ...(params.length || route.errors?.includes(404) ? [404] : []),
    ...(route.errors?.includes(409) ? [409] : []),
    ...(route.body ? [413, 415] : []),
  ];
  const scopes = route.access === 'write' ? [ADMIN_SCOPE] : route.access === 'requests' ? [REQUESTS_SCOPE, ADMIN_SCOPE] : [AUDIT_READ_SCOPE, ADMIN_SCOPE];
  return {
    operationId: route.operationId,
    summary: route.summary,
    tags: [route.tag],
    ...(parameters.length && { parameters }),
    // A body that may be left out (POST /keys/rotate) is an optional request body.
    ...(route.body && { requestBody: { description: `At most ${bodyLimitOf(route)} bytes`, required: !route.body.safeParse(undefined).success, content: { 'application/json': { schema: jsonSchema(route.body, 'input') } } } }),
    responses: {
      [String(route.status ?? 200)]: { description: route.summary, content: { 'application/json': { schema: jsonSchema(route.response, 'output') } } },
      ...Object.fromEntries(statuses.map((s) => [String(s), ref(s)])),
    },
    // Read operations take either scope (alternatives); writes need govauth.admin.
    security: route.access === 'public' ? [] : scopes.map((s) => ({ bearerAuth: [s] })),
  };
}

const SCOPE_DOCS = {
  [ADMIN_SCOPE]: 'Every operation: change scopes, resources, roles, clients, people, role grants, delegation policies, revocations, signing keys and audit retention; read everything',
  [AUDIT_READ_SCOPE]: 'Read-only operations: lists, the audit trail and its verification, the access review',
  [REQUESTS_SCOPE]: 'A client asking for access for itself: file, list and cancel its own access requests (/my/access-requests), nothing else',
};

export function openApiDocument(routes: readonly Route[], issuer: string): Json {
  const paths: Record<string, Json> = {};
  for (const r of routes) (paths[r.path] ??= {})[r.method.toLowerCase()] = operation(r);
  const errorSchema = jsonSchema(errorBody, 'output');
  return {
    openapi: '3.1.1',
    info: {
      title: 'govauth admin API',
      version: '1',
      description:
        `Everything the govauth CLI does, over HTTP. Authenticate with a govauth access token for the resource ${ADMIN_AUDIENCE}: ` +
        `a client that an administrator allowed the admin API (admin_access) and that holds the role ${ADMIN_ROLE} (or ${AUDITOR_ROLE} for read-only access) asks ${issuer}/token with ` +
        `grant_type=client_credentials&resource=${encodeURIComponent(ADMIN_AUDIENCE)}. Other clients are refused (invalid_target), and a token whose client lost admin_access is refused here (401 invalid_token). ` +
        `Every change is recorded in the audit trail with the token's subject as actor.`,
    },
    servers: [{ url: `${issuer}${ADMIN_PREFIX}` }],
    tags: [...new Set(routes.map((r) => r.tag))].map((name) => ({ name })),
    paths,
    components: {
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: `A JWT access token (RFC 9068) issued by ${issuer} for ${ADMIN_AUDIENCE}. Scopes: ${Object.entries(SCOPE_DOCS).map(([s, d]) => `${s}: ${d}`).join('; ')}.`,
        },
        clientCredentials: {
          type: 'oauth2',
          description: `How to obtain the token: client_credentials with resource=${ADMIN_AUDIENCE} (RFC 8707).`,
          flows: { clientCredentials: { tokenUrl: `${issuer}/token`, scopes: SCOPE_DOCS } },
        },
      },
      schemas: { Error: errorSchema },
      headers: {
        'WWW-Authenticate': { description: 'RFC 6750 §3 challenge: Bearer realm="govauth"[, error="invalid_token" | error="insufficient_scope", scope="…"]', schema: { type: 'string' } },
      },
      responses: Object.fromEntries(
        Object.entries(ERRORS).map(([status, [name, description]]) => [
          name,
          {
            description,
            ...((status === '401' || status === '403') && { headers: { 'WWW-Authenticate': { $ref: '#/components/headers/WWW-Authenticate' } } }),
            content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
          },
        ]),
      ),
    },
  };
}
