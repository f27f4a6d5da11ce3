// The console's policy editor (policy-validate, policy-store) under hostile input, over real
// HTTP with a real sign-in: missing or foreign form tokens, bodies over the form's limit (and
// over the usual limit for other actions), empty and path-like file names, names given twice,
// bytes that are not UTF-8, too many files, repeated fields, and markup in the text. Every
// answer is a page with a 4xx status (or the report), never a 500; nothing is stored; and what
// the person wrote comes back escaped, as written.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consoleSession, type ConsoleBrowser } from '../helpers/console-browser.ts';
import { filesForm, textareas } from '../helpers/console-policy-form.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

let t: TestServer;
let root: ConsoleBrowser;
let other: ConsoleBrowser;
let csrf: string;

const BASELINE = '@id("baseline")\npermit(principal, action, resource);\n';
const versions = async () => (await t.cliJson<{ versions: unknown[] }>('policy', 'list')).versions.length;

/** Posts a raw urlencoded body (for bytes URLSearchParams would never produce). */
const postRaw = (b: ConsoleBrowser, action: string, body: string | Buffer): Promise<Response> => b.postRaw(`/console/actions/${action}`, body);

beforeAll(async () => {
  t = await startTestServer();
  await t.cliJson('init', '--demo');
  root = await consoleSession(t, 'root@example.com', 'govauth-admin');
  other = await consoleSession(t, 'other@example.com', 'govauth-admin');
  csrf = await root.csrf('/console/policies');
}, 60_000);
afterAll(async () => {
  await t?.stop();
});

describe('console policy editor input', () => {
  it('refuses posts without the session’s form token, or with another session’s', async () => {
    const theirs = await other.csrf('/console/policies');
    for (const action of ['policy-validate', 'policy-store']) {
      for (const token of [undefined, theirs, 'A'.repeat(43)]) {
        const res = await root.post(`/console/actions/${action}`, { ...(token && { csrf: token }), ...filesForm({ 'a.cedar': BASELINE }), confirmed: 'yes' });
        expect(res.status, `${action} ${token ?? 'none'}`).toBe(403);
      }
    }
    expect(await versions()).toBe(0);
  });

  it('takes a policy form over the usual 16 KiB limit, and refuses one over its own with a page', async () => {
    // 40 KiB of Cedar comments: more than other forms take, well within one policy file.
    const big = `${'// a long explanation of the policy below\n'.repeat(1000)}${BASELINE}`;
    const ok = await root.post('/console/actions/policy-validate', { csrf, ...filesForm({ 'big.cedar': big }) });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('The files are valid');
    // Other actions keep the usual limit, answered with a console page rather than JSON.
    const other16 = await root.post('/console/actions/scope-create', { csrf, name: 'x.y', description: 'x'.repeat(20_000) });
    expect(other16.status).toBe(413);
    expect(other16.headers.get('content-type')).toMatch(/^text\/html/);
    // Over the policy form's own limit (1 MiB as sent): refused before it is read.
    const huge = await postRaw(root, 'policy-store', `csrf=${csrf}&activate=yes&confirmed=yes&file-1-name=a.cedar&file-1-text=${'x'.repeat(1024 * 1024)}`);
    expect(huge.status).toBe(413);
    const html = await huge.text();
    expect(html).toMatch(/larger than the console takes \(1048576 bytes[\s\S]*govauth policy apply/);
    expect(await versions()).toBe(0);
  });

  it('refuses text without a file name, names given twice, and repeated fields, keeping the text', async () => {
    const text = `${BASELINE}// mine\n`;
    const nameless = await root.post('/console/actions/policy-store', { csrf, 'file-1-name': '', 'file-1-text': text, activate: 'yes', confirmed: 'yes' });
    expect(nameless.status).toBe(400);
    const html = await nameless.text();
    expect(html).toContain('File 1 has Cedar text but no name');
    expect(textareas(html)).toEqual([text, '']);
    const twice = await root.post('/console/actions/policy-validate', { csrf, 'file-1-name': 'a.cedar', 'file-1-text': BASELINE, 'file-2-name': ' a.cedar ', 'file-2-text': text });
    expect(twice.status).toBe(400);
    expect(textareas(await twice.text())).toEqual([BASELINE, text, '']);
    const repeated = await postRaw(root, 'policy-validate', `csrf=${csrf}&file-1-name=a.cedar&file-1-text=x&file-1-text=y`);
    expect(repeated.status).toBe(400);
    const none = await root.post('/console/actions/policy-validate', { csrf, 'file-1-name': '', 'file-1-text': '  ' });
    expect(none.status).toBe(400);
    expect(await none.text()).toContain('Write at least one policy file');
    expect(await versions()).toBe(0);
  });

  it('refuses path-like and other bad file names, as a problem at validation and a refusal at store', async () => {
    for (const name of ['../x.cedar', '/etc/x.cedar', 'a/b.cedar', 'a\\b.cedar', '.cedar', 'x.txt', 'x.cedar\u0000', 'ｘ.cedar']) {
      const v = await root.post('/console/actions/policy-validate', { csrf, ...filesForm({ [name]: BASELINE }) });
      expect(v.status, name).toBe(200);
      const html = await v.text();
      expect(html, name).toContain('Not valid');
      expect(html, name).toContain('a policy file name is letters, digits');
      const s = await root.post('/console/actions/policy-store', { csrf, ...filesForm({ [name]: BASELINE }), activate: 'yes', confirmed: 'yes' });
      expect(s.status, name).toBe(400);
      expect(textareas(await s.text()), name).toEqual([BASELINE, '']);
    }
    // Longer than the admin API's schema allows: refused by that schema, the text kept.
    const long = await root.post('/console/actions/policy-store', { csrf, ...filesForm({ [`${'a'.repeat(120)}.cedar`]: BASELINE }), confirmed: 'yes', activate: 'yes' });
    expect(long.status).toBe(400);
    expect(textareas(await long.text())).toEqual([BASELINE, '']);
    expect(await versions()).toBe(0);
  });

  it('refuses bytes that are not UTF-8, raw or percent-encoded, and flags U+FFFD a file reader left', async () => {
    const head = `csrf=${csrf}&file-1-name=a.cedar&file-1-text=`;
    for (const body of [`${head}%40id(%22caf%E9%22)permit(principal%2C+action%2C+resource)%3B`, `${head}%ED%A0%80`, Buffer.concat([Buffer.from(head), Buffer.from([0xff, 0xfe])])]) {
      const res = await postRaw(root, 'policy-store', body);
      expect(res.status).toBe(400);
      expect(await res.text()).toContain('not valid UTF-8');
    }
    const replaced = await root.post('/console/actions/policy-validate', { csrf, ...filesForm({ 'a.cedar': `${BASELINE}@id("caf\uFFFD")\npermit(principal, action, resource);\n` }) });
    expect(replaced.status).toBe(200);
    expect(await replaced.text()).toMatch(/a\.cedar:3:9: not UTF-8 text/);
    expect(await versions()).toBe(0);
  });

  it('refuses more files than a policy set may hold, and answers many within the limit', async () => {
    const files = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`p${i}.cedar`, `@id("p${i}")\npermit(principal, action, resource);\n`]));
    const tooMany = await root.post('/console/actions/policy-store', { csrf, ...filesForm(files(201)), confirmed: 'yes', activate: 'yes' });
    expect(tooMany.status).toBe(400);
    const html = await tooMany.text();
    expect(html).toContain('between 1 and 200 files');
    expect(textareas(html)).toHaveLength(202);
    const ok = await root.post('/console/actions/policy-validate', { csrf, ...filesForm(files(200)) });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('The files are valid: 200 policies');
    // Field numbers beyond what the editor writes are read like any other (order kept), not trusted as a count.
    const sparse = await root.post('/console/actions/policy-validate', { csrf, 'file-9999-name': 'b.cedar', 'file-9999-text': BASELINE.replace('baseline', 'b'), 'file-3-name': 'a.cedar', 'file-3-text': BASELINE });
    expect(sparse.status).toBe(200);
    expect(textareas(await sparse.text())).toEqual([BASELINE, BASELINE.replace('baseline', 'b'), '']);
    expect((await postRaw(root, 'policy-validate', `csrf=${csrf}&file-99999-name=a.cedar&file-99999-text=x`)).status).toBe(400);
    expect(await versions()).toBe(0);
  });

  it('shows markup in a file as text, and keeps a leading newline, in the report and the confirmation', async () => {
    const hostile = '\n// </textarea><script>alert(1)</script>"\'&amp;\n@id("baseline")\npermit(principal, action, resource);\n';
    const name = 'x"><img src=x onerror=alert(1)>.cedar';
    const v = await root.post('/console/actions/policy-validate', { csrf, ...filesForm({ [name]: hostile }) });
    const html = await v.text();
    expect(v.status).toBe(200);
    expect(html).not.toMatch(/<script>alert|<img src=x/);
    expect(textareas(html)).toEqual([hostile, '']);
    const confirm = await root.post('/console/actions/policy-store', { csrf, ...filesForm({ 'x.cedar': hostile }), activate: 'yes' });
    expect(confirm.status).toBe(200);
    const page = await confirm.text();
    expect(page).not.toMatch(/<script>alert/);
    expect(/name="file-1-text" value="([^"]*)"/.exec(page)?.[1]).toBe(hostile.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll("'", '&#39;'));
    expect(await versions()).toBe(0);
  });
});
