// Writing a Cedar policy set in the console, over real HTTP with a real sign-in, on the test
// database (SQLite, or PostgreSQL with DATABASE_URL): Validate shows the problems with
// file:line:column and keeps the text; Store (confirmed first when it activates) makes a new
// active version that changes the next client_credentials token; a refused Store shows the
// files again; an auditor may validate (it stores nothing) but not store (403, console.denied).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consoleSession, type ConsoleBrowser } from '../helpers/console-browser.ts';
import { tokenRequest, type ClientCreds } from '../helpers/oauth.ts';
import { API } from '../helpers/people.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';
import { filesForm, textareas } from '../helpers/console-policy-form.ts';
import { POLICY_LIMITS } from '../../src/governance/abac/cedar-policy-set.ts';

let t: TestServer;
let bot: ClientCreds;
let root: ConsoleBrowser;
let audrey: ConsoleBrowser;

const BASELINE = '@id("baseline")\npermit(principal, action, resource);\n';
const NO_DEPLOY = '// deployments are decided by people\n@id("no-deploy")\nforbid(principal is Client, action == Action::"ai.deploy.manage", resource);\n';
// Line 3 names a scope the catalogue does not have; the second file does not parse (line 2).
const UNKNOWN_SCOPE = '// a comment\n\n@id("typo")\npermit(principal, action == Action::"ai.deploy.mange", resource);\n';
const SYNTAX = 'permit(principal, action, resource)\nwhen { 1 + };\n';

const cc = () => tokenRequest(t.url, { grant_type: 'client_credentials', resource: API }, { basic: bot });
const versions = async () => (await t.cliJson<{ versions: { version: number; active: boolean; created_by: string }[] }>('policy', 'list')).versions;

beforeAll(async () => {
  t = await startTestServer();
  await t.cliJson('init', '--demo');
  bot = await t.cliJson<ClientCreds>('client', 'create', '--name', 'bot', '--grant', 'client_credentials', '--roles', 'admin');
  root = await consoleSession(t, 'root@example.com', 'govauth-admin');
  audrey = await consoleSession(t, 'audrey@example.com', 'govauth-auditor');
}, 60_000);
afterAll(async () => {
  await t?.stop();
});

describe('the console’s policy editor', () => {
  it('is on the Policies page with its file chooser script, served under the page’s CSP', async () => {
    const res = await root.get('/console/policies');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
    expect(res.headers.get('content-security-policy')).not.toMatch(/unsafe-inline/);
    const html = await res.text();
    expect(html).toContain('<script src="/console/assets/console-files.js"></script>');
    expect(html).not.toMatch(/<script>/);
    expect(html).toMatch(/<button type="submit" class="primary">Validate<\/button> <button type="submit" formaction="\/console\/actions\/policy-store" class="danger">Store<\/button>/);
    const script = await root.get('/console/assets/console-files.js');
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toMatch(/^text\/javascript/);
    // Other console pages load no script and keep the CSP without script-src.
    expect((await root.get('/console/keys')).headers.get('content-security-policy')).not.toMatch(/script-src/);
  });

  it('Validate shows each problem with file:line:column and keeps the text as typed', async () => {
    const csrf = await root.csrf('/console/policies');
    const files = { 'base.cedar': BASELINE, 'typo.cedar': UNKNOWN_SCOPE, 'broken.cedar': SYNTAX };
    const res = await root.post('/console/actions/policy-validate', { csrf, back: '/console/policies', ...filesForm(files), activate: 'yes' });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('Not valid');
    expect(html).toMatch(/broken\.cedar:2:12: unexpected token `}`/);
    // The parse error hides the others; without it, validation finds the unknown scope on line 4.
    expect(textareas(html)).toEqual([BASELINE, UNKNOWN_SCOPE, SYNTAX, '']);
    expect(html).toMatch(/name="activate" value="yes" checked/);
    const again = await (await root.post('/console/actions/policy-validate', { csrf, back: '/console/policies', ...filesForm({ 'base.cedar': BASELINE, 'typo.cedar': UNKNOWN_SCOPE }) })).text();
    expect(again).toMatch(/typo\.cedar:4:\d+: typo: /);
    expect(again).not.toMatch(/name="activate" value="yes" checked/); // left unchecked, kept unchecked
    expect(await versions()).toEqual([]);
  });

  it('Store with "activate now" asks first, then makes a new active version that changes the next token', async () => {
    const before = await cc();
    expect(String(before.body.scope).split(' ')).toContain('ai.deploy.manage');
    const csrf = await root.csrf('/console/policies');
    const form = { csrf, back: '/console/policies', ...filesForm({ 'baseline.cedar': BASELINE, 'no-deploy.cedar': NO_DEPLOY }), activate: 'yes' };
    const asked = await root.post('/console/actions/policy-store', form);
    expect(asked.status).toBe(200);
    const confirm = await asked.text();
    expect(confirm).toContain('decides every issuance from now on');
    expect(await versions()).toEqual([]);
    // The confirmation carries the files; confirming stores exactly them.
    const stored = await root.post('/console/actions/policy-store', { ...form, confirmed: 'yes' });
    expect(stored.status).toBe(303);
    expect(stored.headers.get('location')).toBe('/console/policies');
    const [v1, ...more] = await versions();
    expect(more).toEqual([]);
    expect(v1).toMatchObject({ version: 1, active: true });
    expect(v1?.created_by).toMatch(/^usr_/);
    const page = await (await root.get('/console/policies')).text();
    expect(page).toContain('Stored policy version 1; it is active.');
    // The editor now starts from the active version's files.
    expect(textareas(page)).toEqual([BASELINE, NO_DEPLOY, '']);
    const after = await cc();
    expect(after.status).toBe(200);
    expect(String(after.body.scope).split(' ')).not.toContain('ai.deploy.manage');
    expect(String(after.body.scope).split(' ')).toContain('ai.training.read');
    const shown = await t.cliJson<{ sources: Record<string, string> }>('policy', 'show', '1');
    expect(shown.sources).toEqual({ 'baseline.cedar': BASELINE, 'no-deploy.cedar': NO_DEPLOY });
    const audit = await t.cliJson<{ events: { action: string; actor: string; outcome: string }[] }>('audit', 'tail', '--action', 'admin.policy.*', '--limit', '5');
    expect(audit.events.map((e) => e.action)).toEqual(expect.arrayContaining(['admin.policy.apply', 'admin.policy.activate']));
    expect(audit.events.every((e) => e.actor.startsWith('usr_'))).toBe(true);
  });

  it('Store without "activate now" stores at once, inactive, and changes no decision', async () => {
    const csrf = await root.csrf('/console/policies');
    const res = await root.post('/console/actions/policy-store', { csrf, back: '/console/policies', ...filesForm({ 'baseline.cedar': BASELINE }) });
    expect(res.status).toBe(303);
    expect(await versions()).toMatchObject([{ version: 1, active: true }, { version: 2, active: false }]);
    expect(String((await cc()).body.scope).split(' ')).not.toContain('ai.deploy.manage');
  });

  it('Store with "activate now" validates before asking: an invalid set comes back at once with its problems, no confirmation', async () => {
    const csrf = await root.csrf('/console/policies');
    const files = { 'baseline.cedar': BASELINE, 'typo.cedar': UNKNOWN_SCOPE };
    const res = await root.post('/console/actions/policy-store', { csrf, back: '/console/policies', ...filesForm(files), activate: 'yes' });
    expect(res.status).toBe(400);
    const html = await res.text();
    expect(html).not.toContain('Are you sure?');
    expect(html).not.toContain('name="confirmed"');
    expect(html).toContain('Not stored');
    expect(html).toMatch(/typo\.cedar:4:\d+: typo: /);
    expect(textareas(html)).toEqual([BASELINE, UNKNOWN_SCOPE, '']);
    expect(html).toMatch(/name="activate" value="yes" checked/); // kept ticked
    expect(await versions()).toHaveLength(2);
  });

  it('gives the file name field the one rule for names: its pattern and length come from POLICY_LIMITS', async () => {
    const html = await (await root.get('/console/policies')).text();
    const field = /<input type="text" id="[^"]*-file-1-name"[^>]*>/.exec(html)?.[0] ?? '';
    expect(field).toContain(`maxlength="${POLICY_LIMITS.fileNameLength}"`);
    const pattern = new RegExp(`^(?:${/pattern="([^"]*)"/.exec(field)?.[1] ?? 'none'})$`, 'v'); // as a browser compiles it
    expect(pattern.test(`${'a'.repeat(POLICY_LIMITS.fileNameLength - 6)}.cedar`)).toBe(true);
    expect(pattern.test(`${'a'.repeat(POLICY_LIMITS.fileNameLength - 5)}.cedar`)).toBe(false);
    expect(pattern.test('../x.cedar')).toBe(false);
  });

  it('a refused Store shows the files again with the problems, and stores nothing', async () => {
    const csrf = await root.csrf('/console/policies');
    const files = { 'baseline.cedar': BASELINE, 'typo.cedar': UNKNOWN_SCOPE };
    const res = await root.post('/console/actions/policy-store', { csrf, back: '/console/policies', ...filesForm(files), activate: 'yes', confirmed: 'yes' });
    expect(res.status).toBe(400);
    const html = await res.text();
    expect(html).toContain('Not stored');
    expect(html).toMatch(/typo\.cedar:4:\d+: typo: /);
    expect(textareas(html)).toEqual([BASELINE, UNKNOWN_SCOPE, '']);
    expect(await versions()).toHaveLength(2);
  });

  it('an auditor sees the editor with Validate only, may validate, and is refused Store (403, recorded)', async () => {
    const page = await (await audrey.get('/console/policies')).text();
    expect(page).toContain('Validate</button>');
    expect(page).not.toContain('policy-store');
    expect(page).not.toContain('name="activate"');
    const csrf = await audrey.csrf('/console/policies');
    const valid = await audrey.post('/console/actions/policy-validate', { csrf, back: '/console/policies', ...filesForm({ 'baseline.cedar': BASELINE }) });
    expect(valid.status).toBe(200);
    const report = await valid.text();
    expect(report).toMatch(/The files are valid: 1 policy/);
    expect(report).not.toContain('policy-store');
    const refused = await audrey.post('/console/actions/policy-store', { csrf, back: '/console/policies', ...filesForm({ 'baseline.cedar': BASELINE }), activate: 'yes', confirmed: 'yes' });
    expect(refused.status).toBe(403);
    expect(await versions()).toHaveLength(2);
    const denied = await t.cliJson<{ events: { outcome: string; detail: { action?: string; operation?: string } }[] }>('audit', 'tail', '--action', 'console.denied', '--limit', '5');
    expect(denied.events.at(-1)).toMatchObject({ outcome: 'denied', detail: { action: 'policy-store', operation: 'applyPolicies' } });
  });
});
