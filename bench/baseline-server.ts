// The yardstick: bare oidc-provider 9 with its in-memory adapter and a static client holding a
// plaintext secret, issuing the same token (client_credentials → RS256 at+jwt for one
// resource). Prints "ready <url>" when listening. Run by bench/token-bench.ts.
import { generateKeyPair, exportJWK } from 'jose';
import Provider from 'oidc-provider';

const { privateKey } = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
const jwk = { ...(await exportJWK(privateKey)), alg: 'RS256', use: 'sig', kid: 'bench' };
const audience = 'https://models.example';
const provider = new Provider('http://localhost', {
  clients: [{ client_id: 'bench', client_secret: 'bench-secret', grant_types: ['client_credentials'], response_types: [], redirect_uris: [] }],
  jwks: { keys: [jwk] },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => audience,
      getResourceServerInfo: () => ({ scope: 'ai.training.read ai.training.analyze ai.prediction.run', accessTokenFormat: 'jwt', accessTokenTTL: 300, jwt: { sign: { alg: 'RS256' } } }),
    },
  },
  ttl: { ClientCredentials: 300 },
});
const server = provider.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (address && typeof address === 'object') console.log(`ready http://127.0.0.1:${address.port}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
