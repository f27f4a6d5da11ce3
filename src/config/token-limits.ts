// The longest an access token may live (seconds), whatever a resource or scope asks. A leaf
// because three layers rely on the same bound: governance validates TTLs against it, signing
// keys stay published at least this long after retirement (so every token they signed can still
// be verified), and the audit's access history looks back this far for live tokens.
export const MAX_TTL_SECONDS = 86_400;
