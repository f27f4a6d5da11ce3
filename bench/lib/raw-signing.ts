// The physical limit of issuance on this machine: RS256 signatures per second on one core with
// Node's crypto (one RSA-2048 private-key operation per token).
import { generateKeyPairSync, sign } from 'node:crypto';

export function rawRs256SignRate(durationMs = 2000): number {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const data = Buffer.from('eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJiZW5jaCJ9');
  for (let i = 0; i < 200; i++) sign('sha256', data, privateKey);
  const started = performance.now();
  let n = 0;
  while (performance.now() - started < durationMs) {
    sign('sha256', data, privateKey);
    n++;
  }
  return Math.round((n * 1000) / (performance.now() - started));
}
