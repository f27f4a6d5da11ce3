// Matches a request path against the route table: segment by segment, each `{param}` one
// URL-decoded segment (so an audience URI travels as https%3A%2F%2Fmodels.example).
import { AppError } from '../errors/app-error.ts';
import { ADMIN_PREFIX, type Method, type Route } from './route.ts';

export type Match =
  | { readonly kind: 'route'; readonly route: Route; readonly params: Record<string, string> }
  | { readonly kind: 'method_not_allowed'; readonly allow: readonly Method[] }
  | { readonly kind: 'none' };

const MAX_SEGMENT = 1024;

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new AppError('invalid_request', 'the path contains malformed percent-encoding');
  }
}

function matchSegments(template: readonly string[], actual: readonly string[]): Record<string, string> | undefined {
  if (template.length !== actual.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < template.length; i++) {
    const t = template[i] ?? '';
    const a = actual[i] ?? '';
    if (t.startsWith('{')) {
      if (!a || a.length > MAX_SEGMENT) return undefined;
      params[t.slice(1, -1)] = decode(a);
    } else if (t !== a) {
      return undefined;
    }
  }
  return params;
}

export function createRouter(routes: readonly Route[]): (method: string, path: string) => Match {
  const compiled = routes.map((route) => ({ route, segments: route.path.split('/').slice(1) }));
  return (method, path) => {
    if (path !== ADMIN_PREFIX && !path.startsWith(`${ADMIN_PREFIX}/`)) return { kind: 'none' };
    const actual = path.slice(ADMIN_PREFIX.length).split('/').slice(1);
    const wanted = method === 'HEAD' ? 'GET' : method;
    const allow: Method[] = [];
    for (const { route, segments } of compiled) {
      const params = matchSegments(segments, actual);
      if (!params) continue;
      if (route.method === wanted) return { kind: 'route', route, params };
      allow.push(route.method);
    }
    return allow.length ? { kind: 'method_not_allowed', allow } : { kind: 'none' };
  };
}
