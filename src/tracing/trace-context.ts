// The W3C Trace Context header a caller (or the proxy in front) sends, read into an OTel
// Context that the request's server span continues (https://www.w3.org/TR/trace-context/ §3).
// Parsed here rather than through @opentelemetry/core's propagator, which is not a direct
// dependency: the format is one line of hex.
import { createTraceState, isSpanContextValid, ROOT_CONTEXT, trace, type Context, type SpanContext } from '@opentelemetry/api';

// version-traceid-parentid-flags; version 00 has exactly these four fields (§3.2.2), later
// versions may append fields after a dash (§3.2.4), and version ff is invalid.
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

export function extractTraceContext(traceparent: string, tracestate: string): Context | undefined {
  const m = TRACEPARENT.exec(traceparent.trim());
  if (!m) return undefined;
  const [, version, traceId, spanId, flags, rest] = m as unknown as [string, string, string, string, string, string | undefined];
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined;
  const parent: SpanContext = {
    traceId,
    spanId,
    traceFlags: Number.parseInt(flags, 16) & 1, // only the sampled bit is defined (§3.2.2.5)
    isRemote: true,
    // tracestate is meaningless without a valid traceparent (§3.3); it is bounded by the
    // header size limit of the HTTP server and parsed by the API (32 entries at most).
    traceState: tracestate ? createTraceState(tracestate) : undefined,
  };
  return isSpanContextValid(parent) ? trace.setSpanContext(ROOT_CONTEXT, parent) : undefined; // all-zero ids are invalid
}
