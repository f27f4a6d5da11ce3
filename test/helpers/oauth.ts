// Small helpers for talking OAuth to a test server over real HTTP.
export interface ClientCreds {
  client_id: string;
  client_secret: string;
}

export const basic = (c: ClientCreds): string =>
  `Basic ${Buffer.from(`${encodeURIComponent(c.client_id)}:${encodeURIComponent(c.client_secret)}`).toString('base64')}`;

/** Whether introspection (RFC 7662) at `base` calls `token` active, asked by the resource server `rs`. */
export async function introspectionActive(base: string, rs: ClientCreds, token: string): Promise<boolean> {
  const res = await fetch(`${base}/token/introspection`, { method: 'POST', headers: { authorization: basic(rs), 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token }) });
  return ((await res.json()) as { active: boolean }).active;
}

export async function tokenRequest(
  baseUrl: string,
  params: Record<string, string | string[]>,
  auth?: { basic?: ClientCreds; post?: ClientCreds },
): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const form = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) for (const x of Array.isArray(v) ? v : [v]) form.append(k, x);
  if (auth?.post) {
    form.set('client_id', auth.post.client_id);
    form.set('client_secret', auth.post.client_secret);
  }
  const res = await fetch(`${baseUrl}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(auth?.basic && { authorization: basic(auth.basic) }) },
    body: form,
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown>, headers: res.headers };
}

export function decodeJwt(token: string): { header: Record<string, unknown>; payload: Record<string, unknown> } {
  const [h, p] = token.split('.');
  return {
    header: JSON.parse(Buffer.from(h ?? '', 'base64url').toString()) as Record<string, unknown>,
    payload: JSON.parse(Buffer.from(p ?? '', 'base64url').toString()) as Record<string, unknown>,
  };
}

export async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs: number, intervalMs = 10): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  for (;;) {
    const value = await probe();
    if (value !== undefined) return { value, ms: performance.now() - started };
    if (performance.now() - started > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
