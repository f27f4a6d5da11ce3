// @govauth/resource-server: the framework-free core. Adapters: ./express, ./koa, ./fastify,
// ./node (node:http), ./mcp (the MCP SDK).
export { createResourceServer } from './resource-server.ts';
export type { Decision, ResourceServer, Route, VerifiedToken } from './resource-server.ts';
export type { ResourceServerOptions, RouteOptions } from './options.ts';
export type { AccessTokenClaims, Actor } from './access-token.ts';
export type { RequestFacts } from './request.ts';
export type { ErrorCode, Refusal, Scheme } from './errors.ts';
export type { ProtectedResourceMetadata } from './metadata.ts';
export type { UsageEvent, UsageStats } from './usage-reporter.ts';
