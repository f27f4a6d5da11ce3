// The one function every server-side fetch to a URL chosen by someone else goes through: a
// client's jwks_uri (RFC 7591 §2) and, next, Client ID Metadata Documents. oidc-provider makes
// those requests itself (lib/helpers/fetch_request.js) and hands each to `configuration.fetch`
// with a 2.5 s timeout signal and an undici dispatcher that destroys sockets to special-use
// addresses; this function is that `fetch`. It keeps that protection and adds:
// - the URL rules (governance/outbound-url.ts: https, no credentials, no special-use IP literal
//   or localhost) checked before any connection, so the refusal says which rule;
// - no redirects at all (`redirect: 'manual'`; a 3xx is a refusal): a redirect could lead to
//   another host, an http URL or an internal address after the URL was checked;
// - its own time limit, whatever the caller passes (the body read is bounded by the same signal);
// - response size limits, per purpose, given to oidc-provider as fetchResponseBodyLimits below.
// The development allowance (GOVAUTH_OUTBOUND_FETCH_ALLOW_PRIVATE, never in production) lets
// private and loopback hosts through; GOVAUTH_OUTBOUND_FETCH_CA_FILE adds a trusted authority.
import { rootCertificates } from 'node:tls';
import { applySSRFProtection } from 'oidc-provider/lib/helpers/fetch_request.js';
import type { Dispatcher } from 'undici-types';
import type { OutboundFetchConfig } from '../config/outbound-fetch-config.ts';
import { outboundUrlProblem } from '../governance/outbound-url.ts';
import { SPECIAL_USE_SOCKET_DESTROYED } from './upstream-strings.ts';

/** Milliseconds a fetch may take, response body included (oidc-provider's own is 2500). */
export const OUTBOUND_FETCH_TIMEOUT_MS = 2500;

/**
 * Bytes a response body may have, per purpose (oidc-provider's names; its defaults leave
 * jwks_uri and sector_identifier_uri unlimited). A JWK Set of five keys (client-jwks.ts
 * MAX_KEYS) with 4096-bit RSA keys is under 5 KiB; 16 KiB is what --jwks-file accepts too.
 * 5 KiB for a Client ID Metadata Document is oidc-provider's default and the draft's advice.
 */
export const FETCH_RESPONSE_BODY_LIMITS = Object.freeze({
  'client_id metadata document': 5 * 1024,
  jwks_uri: 16 * 1024,
  sector_identifier_uri: 16 * 1024,
});

/**
 * The ceiling for any response, whatever the purpose: counted here as the body streams, since
 * oidc-provider's own count (lib/helpers/fetch_body_check.js) fails on a body without
 * Content-Length by cancelling the stream it is still reading (a TypeError, not its message).
 */
const MAX_RESPONSE_BYTES = Math.max(...Object.values(FETCH_RESPONSE_BODY_LIMITS));

/** A fetch refused by a rule or failed for a reason fit to tell the client (outbound-fetch-errors.ts). */
export class OutboundFetchRefused extends Error {
  override readonly name = 'OutboundFetchRefused';
}

type Fetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;
type AgentClass = new (options: { connect: { ca?: string[] } }) => Dispatcher;

/**
 * The `fetch` for oidc-provider's configuration. `timeoutMs` only for tests of the limit itself.
 */
export function createOutboundFetch(config: OutboundFetchConfig, timeoutMs: number = OUTBOUND_FETCH_TIMEOUT_MS): Fetch {
  let own: Dispatcher | undefined;
  /**
   * oidc-provider's protected dispatcher, unless an extra authority or the allowance needs one of
   * our own: built from the same undici Agent class (Node's bundled undici; oidc-provider finds it
   * the same way), with the same protection unless the allowance is on.
   */
  const dispatcherFor = (given: Dispatcher | undefined): Dispatcher | undefined => {
    if (!config.allowPrivate && config.ca === undefined) {
      if (!given) throw new OutboundFetchRefused('server-side fetches are disabled: the connection check for special-use addresses is unavailable');
      return given;
    }
    if (!own) {
      if (!given) throw new OutboundFetchRefused('server-side fetches are disabled: no dispatcher to configure');
      const Agent = given.constructor as AgentClass;
      const agent = new Agent({ connect: config.ca === undefined ? {} : { ca: [...rootCertificates, config.ca] } });
      own = config.allowPrivate ? agent : applySSRFProtection(agent);
    }
    return own;
  };

  return async function outboundFetch(input, init = {}) {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const problem = outboundUrlProblem(url, config);
    if (problem) throw new OutboundFetchRefused(`the URL ${problem}`);
    const signals = [AbortSignal.timeout(timeoutMs), ...(init.signal ? [init.signal] : [])];
    const given = (init as { dispatcher?: Dispatcher }).dispatcher;
    let response: Response;
    try {
      response = await fetch(url, { ...init, signal: AbortSignal.any(signals), redirect: 'manual', dispatcher: dispatcherFor(given) });
    } catch (err) {
      throw refusalOf(err, timeoutMs);
    }
    if (response.status >= 300 && response.status < 400) {
      await response.body?.cancel();
      const to = URL.parse(response.headers.get('location') ?? '', url);
      throw new OutboundFetchRefused(`redirects are not followed (HTTP ${response.status}${to ? ` to ${to.host}` : ''}): the document must be served at its URL`);
    }
    return capped(response, MAX_RESPONSE_BYTES);
  };
}

/** The response with a body that errors (and cancels the download) past `max` bytes. */
async function capped(response: Response, max: number): Promise<Response> {
  const tooLarge = (): OutboundFetchRefused => new OutboundFetchRefused(`the response is larger than the limit (${max} bytes)`);
  if (Number(response.headers.get('content-length') ?? 0) > max) {
    await response.body?.cancel();
    throw tooLarge();
  }
  if (!response.body) return response;
  let seen = 0;
  const body = response.body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        seen += chunk.byteLength;
        if (seen > max) controller.error(tooLarge());
        else controller.enqueue(chunk);
      },
    }),
  );
  return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
}

/** A failed connection, said without the stack: what the client (and the audit) is told. */
function refusalOf(err: unknown, timeoutMs: number): Error {
  if (err instanceof OutboundFetchRefused) return err;
  const e = err as Error & { cause?: Error & { code?: string } };
  if (e.name === 'TimeoutError' || e.cause?.name === 'TimeoutError') return new OutboundFetchRefused(`no complete response within ${timeoutMs} ms`, { cause: err });
  if (e.cause?.message === SPECIAL_USE_SOCKET_DESTROYED) {
    return new OutboundFetchRefused('the host resolves to a private, loopback, link-local or other special-use address', { cause: err });
  }
  const code = e.cause?.code;
  return new OutboundFetchRefused(`the connection failed${code ? ` (${code})` : ''}`, { cause: err });
}
