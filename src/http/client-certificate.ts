// The client certificate a request presents (mutual TLS, RFC 8705), decided in one place: from
// govauth's own TLS handshake, or from a TLS-terminating proxy's Client-Cert header (RFC 9440).
// The header is honoured only from a trusted proxy (GOVAUTH_TRUST_PROXY, the same trust that
// decides X-Forwarded-For in request-context.ts) and removed from every other request, so no
// later reader can take a client's own header for a verified certificate (RFC 9440 §3, §6.2).
// Whether the certificate is trusted and matches a client is judged where it is used
// (governance/client-certificates.ts); here it is only parsed.
import { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import type { Context, Middleware } from 'koa';
import type { Logger } from '../log/logger.ts';

const HEADER = 'client-cert';

/** RFC 9440 §2.2: the DER certificate as a structured-field byte sequence (RFC 8941 §3.3.5), `:base64:`. */
const BYTE_SEQUENCE = /^:([A-Za-z0-9+/]+={0,2}):$/;

function fromHeader(value: string): X509Certificate | undefined {
  const m = BYTE_SEQUENCE.exec(value.trim());
  if (!m?.[1]) return undefined;
  try {
    return new X509Certificate(Buffer.from(m[1], 'base64'));
  } catch {
    return undefined;
  }
}

function fromHandshake(ctx: Context): X509Certificate | undefined {
  const socket = ctx.req.socket as Partial<TLSSocket>;
  if (!socket.encrypted || !socket.getPeerCertificate) return undefined;
  const peer = socket.getPeerCertificate();
  return peer.raw?.length ? new X509Certificate(peer.raw) : undefined;
}

/** Sets ctx.state.clientCertificate; `enabled`: client authorities are configured (GOVAUTH_TLS_CLIENT_CA). */
export function clientCertificate(options: { enabled: boolean; trustProxy: boolean; log: Logger }): Middleware {
  return async (ctx, next) => {
    const header = ctx.req.headers[HEADER];
    if (header !== undefined) delete ctx.req.headers[HEADER];
    if (options.enabled) {
      if (options.trustProxy && typeof header === 'string') {
        const cert = fromHeader(header);
        if (cert) ctx.state.clientCertificate = cert;
        else options.log.warn('ignored a Client-Cert header that is not one DER certificate as an RFC 9440 byte sequence');
      } else {
        ctx.state.clientCertificate = fromHandshake(ctx);
      }
    }
    await next();
  };
}

