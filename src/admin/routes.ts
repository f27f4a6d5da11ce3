// The admin API's route table: every operation, in the order the OpenAPI document lists them.
import { z } from 'zod';
import { accessRequestRoutes } from './access-request-routes.ts';
import { auditRoutes } from './audit-routes.ts';
import { catalogRoutes } from './catalog-routes.ts';
import { roleHierarchyRoutes } from './role-hierarchy-routes.ts';
import { abacRoutes } from './abac-routes.ts';
import { factorRoutes } from './factor-routes.ts';
import { clientRoutes } from './client-routes.ts';
import { selfRegistrationRoutes } from './self-registration-routes.ts';
import { delegationRoutes } from './delegation-routes.ts';
import { roleGrantRoutes } from './grant-routes.ts';
import { keyRoutes } from './key-routes.ts';
import { notificationRoutes } from './notification-routes.ts';
import { openApiDocument } from './openapi.ts';
import { ownAccessRequestRoutes } from './own-access-request-routes.ts';
import { withPropagationField } from './propagation-field.ts';
import { revocationRoutes } from './revocation-routes.ts';
import { route, type Route } from './route.ts';
import { scopeAccessRoutes } from './scope-access-routes.ts';
import { standingDelegationRoutes } from './standing-delegation-routes.ts';
import { sessionRoutes } from './session-routes.ts';
import { userRoutes } from './user-routes.ts';

// One document per issuer (a process has one); built on first request.
let cached: { issuer: string; doc: Record<string, unknown> } | undefined;

const openApiRoute = route({
  method: 'GET',
  path: '/openapi.json',
  operationId: 'openApiDocument',
  summary: 'This document (no authentication: it is documentation)',
  tag: 'meta',
  access: 'public',
  cacheControl: 'public, max-age=300',
  response: z.looseObject({ openapi: z.string() }),
  handle({ deps }) {
    if (cached?.issuer !== deps.issuer) cached = { issuer: deps.issuer, doc: openApiDocument(ADMIN_ROUTES, deps.issuer) };
    return Promise.resolve(cached.doc as { openapi: string });
  },
});

export const ADMIN_ROUTES: readonly Route[] = [...catalogRoutes, ...factorRoutes, ...roleHierarchyRoutes, ...clientRoutes, ...selfRegistrationRoutes, ...userRoutes, ...sessionRoutes, ...roleGrantRoutes, ...delegationRoutes, ...standingDelegationRoutes, ...accessRequestRoutes, ...scopeAccessRoutes, ...ownAccessRequestRoutes, ...revocationRoutes, ...keyRoutes, ...notificationRoutes, ...auditRoutes, ...abacRoutes, openApiRoute].map(withPropagationField);
