// OAuth 2.0 Protected Resource Metadata (RFC 9728): what a client learns about this resource
// server, at /.well-known/oauth-protected-resource, and where 401/403 challenges point to.

export interface ProtectedResourceMetadata {
  readonly resource: string;
  readonly authorization_servers: readonly string[];
  readonly scopes_supported?: readonly string[];
  readonly bearer_methods_supported: readonly string[];
  readonly dpop_signing_alg_values_supported?: readonly string[];
  readonly dpop_bound_access_tokens_required?: boolean;
  readonly tls_client_certificate_bound_access_tokens?: boolean;
  readonly resource_name?: string;
}

const WELL_KNOWN = '/.well-known/oauth-protected-resource';

/**
 * RFC 9728 §3.1: the well-known segment goes between the host and the resource's path, any
 * terminating slash removed: https://api.example/models → /.well-known/oauth-protected-resource/models.
 */
export function metadataPath(resource: string): string {
  const path = new URL(resource).pathname.replace(/\/$/, '');
  return WELL_KNOWN + path;
}

export function metadataUrl(resource: string): string {
  return new URL(resource).origin + metadataPath(resource);
}

export interface MetadataInput {
  readonly resource: string;
  readonly issuer: string;
  readonly scopes: readonly string[];
  readonly dpopAlgorithms: readonly string[] | undefined;
  readonly dpopRequired: boolean;
  readonly mtls: boolean;
  readonly resourceName: string | undefined;
}

export function buildMetadata(input: MetadataInput): ProtectedResourceMetadata {
  return {
    resource: input.resource,
    authorization_servers: [input.issuer],
    ...(input.scopes.length ? { scopes_supported: [...input.scopes].sort() } : {}),
    // RFC 6750 §2.1 only: the URI query and the form body are refused (request.ts).
    bearer_methods_supported: ['header'],
    ...(input.dpopAlgorithms && { dpop_signing_alg_values_supported: input.dpopAlgorithms }),
    ...(input.dpopRequired && { dpop_bound_access_tokens_required: true }),
    ...(input.mtls && { tls_client_certificate_bound_access_tokens: true }),
    ...(input.resourceName && { resource_name: input.resourceName }),
  };
}

/** The response headers for the metadata document: public, cacheable, readable cross-origin. */
export const METADATA_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'application/json',
  'cache-control': 'public, max-age=300',
  'access-control-allow-origin': '*',
};
