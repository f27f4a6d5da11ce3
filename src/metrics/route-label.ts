// The route a request matched, as a template ("/interaction/:uid/login", never the raw path):
// metric labels must stay bounded whatever paths clients send, so anything without a template
// (404s, probes for random paths) is "other".
import type { Context } from 'koa';
import { routeTemplate } from '../http/request-route.ts';

export const routeLabel = (ctx: Context): string => routeTemplate(ctx) ?? 'other';
