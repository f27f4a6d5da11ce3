// The govauth CLI fed hostile arguments (NUL and other control characters, very long strings,
// SQL-looking text, Unicode, leading dashes) in every input it stores. Each either works and
// stores the text verbatim, printing exactly one JSON object with --json, or exits non-zero (2
// usage, 1 refused) with a human message on stderr (one JSON object with --json): no stack trace, no error class, no control
// character that a terminal would act on, no line longer than a person can read.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type CliResult, type TestServer } from '../helpers/test-server.ts';

const run = promisify(execFile);
const bin = fileURLToPath(new URL('../../bin/govauth.js', import.meta.url));
const PASSWORD = 'correct horse battery staple\n';
let t: TestServer;

beforeAll(async () => {
  t = await startTestServer();
  await t.cliJson('init', '--demo');
  expect((await t.cliWithStdin(PASSWORD, 'user', 'create', 'bob@x.example', '--password-stdin')).code).toBe(0);
});
afterAll(() => t?.stop());

/** What a refusal must look like: nothing on stdout, a readable message, no internals. */
function expectRefusal(r: CliResult, code: 1 | 2, message: RegExp): void {
  expect(r.code, r.stderr.slice(0, 300)).toBe(code);
  expect(r.stdout).toBe('');
  const lines = r.stderr.trimEnd().split('\n');
  if (r.stderr.startsWith('{')) {
    // With --json: exactly one JSON object, {"error": <code>, "message": <sentence>}.
    expect(lines).toHaveLength(1);
    const out = JSON.parse(r.stderr) as Record<string, unknown>;
    expect(Object.keys(out)).toEqual(['error', 'message']);
    expect(out.error).toBe(code === 2 ? 'usage_error' : out.error);
    // The same sentence a person reads (the patterns are written for "govauth …: <message>\n").
    expect(`govauth: ${String(out.message)}\n`).toMatch(message);
  } else {
    expect(lines[0]).toMatch(/^govauth( [a-z -]+)?: \S/);
    expect(r.stderr).toMatch(message);
    if (code === 1) expect(lines).toHaveLength(1);
    else expect(lines.at(-1)).toMatch(/^usage: govauth /);
  }
  expect(r.stderr).not.toMatch(/^\s+at /m); // no stack frames
  expect(r.stderr).not.toMatch(/\b[A-Z]\w*Error\b/); // no error class dumps
  expect(r.stderr).not.toMatch(/internal error|prisma|node_modules/i);
  expect(r.stderr.replace(/\n/g, '')).not.toMatch(/\p{Cc}/u); // no raw ESC, NUL, BEL… for the terminal
  for (const line of lines) expect(line.length).toBeLessThanOrEqual(600);
}

/** What a success with --json must look like: exactly one JSON object on stdout. */
function expectJson(r: CliResult): Record<string, unknown> {
  expect(r.code, r.stderr).toBe(0);
  expect(r.stderr).toBe('');
  expect(r.stdout.endsWith('\n')).toBe(true);
  expect(r.stdout.trimEnd().split('\n')).toHaveLength(1);
  const out = JSON.parse(r.stdout) as unknown;
  expect(out).toBeTypeOf('object');
  expect(Array.isArray(out)).toBe(false);
  return out as Record<string, unknown>;
}

let n = 0;
const list = async (path: string[], key: string, pick: string): Promise<unknown[]> =>
  (expectJson(await t.cli(...path, '--json'))[key] as Record<string, unknown>[]).map((x) => x[pick]);

/** Every CLI input that ends up stored, how to pass a value in it, and where to read it back. */
interface Site {
  label: string;
  args: (v: string) => string[];
  /** Why a control character (or 100 000 characters) is refused. */
  refusal: RegExp;
  stdin?: string;
  /** Reads back what is stored there (sites without it are identifiers that refuse free text). */
  stored?: () => Promise<unknown[]>;
  /** The form the text is stored in (emails are compared case-insensitively, kept lowercase). */
  as?: (v: string) => string;
}
const textRule = (field: string): RegExp => new RegExp(`: ${field} must (not contain control characters|be at most \\d+ characters)\\n$`);
const SITES: Site[] = [
  { label: 'scope create <name>', args: (v) => ['scope', 'create', '--description', 'x', '--', v], refusal: /invalid scope name/ },
  { label: 'scope create --description', args: (v) => ['scope', 'create', `c.scope${++n}`, `--description=${v}`], refusal: textRule('description'), stored: () => list(['scope', 'list'], 'scopes', 'description') },
  { label: 'scope update --description', args: (v) => ['scope', 'update', 'ai.training.read', `--description=${v}`], refusal: textRule('description'), stored: () => list(['scope', 'list'], 'scopes', 'description') },
  {
    label: 'resource create <audience>',
    args: (v) => ['resource', 'create', '--name', 'x', '--scopes', 'ai.training.read', '--', `https://r.example/${v}`],
    refusal: /resource must be at most 512 characters, without spaces or control characters/,
    as: (v) => `https://r.example/${v}`,
    stored: () => list(['resource', 'list'], 'resources', 'audience'),
  },
  { label: 'resource create --name', args: (v) => ['resource', 'create', `https://r${++n}.example`, `--name=${v}`, '--scopes', 'ai.training.read'], refusal: textRule('name'), stored: () => list(['resource', 'list'], 'resources', 'name') },
  { label: 'role create <name>', args: (v) => ['role', 'create', '--scopes', 'ai.training.read', '--', v], refusal: /invalid role name/ },
  { label: 'role create --description', args: (v) => ['role', 'create', `c-role${++n}`, '--scopes', 'ai.training.read', `--description=${v}`], refusal: textRule('description'), stored: () => list(['role', 'list'], 'roles', 'description') },
  { label: 'client create --name', args: (v) => ['client', 'create', `--name=${v}`, '--grant', 'client_credentials'], refusal: textRule('name'), stored: () => list(['client', 'list'], 'clients', 'name') },
  {
    label: 'client create --redirect-uri',
    args: (v) => ['client', 'create', '--name', 'app', '--grant', 'authorization_code', `--redirect-uri=http://127.0.0.1:9/cb?q=${v}`],
    refusal: /redirect URI must be at most 2048 characters, without spaces or control characters/,
    as: (v) => `http://127.0.0.1:9/cb?q=${v}`,
    stored: async () => (await list(['client', 'list'], 'clients', 'redirect_uris')).flat(),
  },
  {
    label: 'user create <email>',
    args: (v) => ['user', 'create', '--password-stdin', '--', `${v}@x.example`],
    stdin: PASSWORD,
    refusal: /is not an email address/,
    as: (v) => `${v}@x.example`.toLowerCase(),
    stored: () => list(['user', 'list'], 'users', 'email'),
  },
  { label: 'user grant-role --reason', args: (v) => ['user', 'grant-role', 'bob@x.example', 'auditor', `--reason=${v}`], refusal: textRule('reason'), stored: () => list(['user', 'roles', 'bob@x.example'], 'grants', 'reason') },
  { label: 'revoke --reason', args: (v) => ['revoke', '--role', 'auditor', `--reason=${v}`], refusal: textRule('reason'), stored: () => list(['revocations', 'list'], 'revocations', 'reason') },
];
/** Runs the site with --json (before any `--` that ends the options). */
function cli(site: Site, value: string): Promise<CliResult> {
  const args = site.args(value);
  args.splice(args.includes('--') ? args.indexOf('--') : args.length, 0, '--json');
  return site.stdin === undefined ? t.cli(...args) : t.cliWithStdin(site.stdin, ...args);
}

const HOSTILE: [string, string][] = [
  ['a NUL byte', 'a\u0000b'],
  ['a bell', 'a\u0007b'],
  ['an ANSI escape sequence', 'a\u001b[2J\u001b[31mred'],
  ['a newline', 'line\nforged: ok'],
  ['a carriage return', 'a\rb'],
  ['a DEL', 'a\u007fb'],
  ['a C1 control (8-bit CSI)', 'a\u009b31mb'],
  ['100 000 characters', 'x'.repeat(100_000)],
];
const VERBATIM: [string, string][] = [
  ['Unicode', 'Modèle🧪数据\u202eمرحبا'],
  ['SQL quoting', `';DROP/**/TABLE/**/"Client";--`],
  ['SQL tautology', `"OR"1=1--`],
  ['a backslash escape', String.raw`\x00`],
  ['a leading dash', '-x'],
];

describe('hostile text in every stored CLI input', () => {
  it.each(SITES.flatMap((s) => HOSTILE.map(([what, v]) => [s.label, what, s, v] as const)))('%s refuses %s: exit 1, a one-line message', async (_, __, site, value) => {
    expectRefusal(await cli(site, value), 1, site.refusal);
  });
  it.each(SITES.filter((s) => s.stored).flatMap((s) => VERBATIM.map(([what, v]) => [s.label, what, s, v] as const)))('%s stores %s verbatim, printing one JSON object', async (_, __, site, value) => {
    const text = `${value}${++n}`;
    expectJson(await cli(site, text));
    expect(await site.stored?.()).toContain(site.as?.(text) ?? text);
  });
  it.each(SITES.filter((s) => !s.stored).flatMap((s) => VERBATIM.map(([what, v]) => [s.label, what, s, v] as const)))('%s refuses %s as an identifier: exit 1, a one-line message', async (_, __, site, value) => {
    expectRefusal(await cli(site, value), 1, site.refusal);
  });
});

describe('leading dashes and garbage options', () => {
  it('refuses an option value that looks like a long option: exit 2 with usage', async () => {
    expectRefusal(await t.cli('scope', 'create', 'dash.a', '--description', '--json'), 2, /argument is ambiguous/);
  });
  it('takes a single-dash option value as the value (govauth has no short options)', async () => {
    expectJson(await t.cli('scope', 'create', 'dash.b', '--description', '-x', '--json'));
    const { scopes } = await t.cliJson<{ scopes: { name: string; description: string }[] }>('scope', 'list');
    expect(scopes.find((s) => s.name === 'dash.b')?.description).toBe('-x');
  });
  it('refuses a positional that looks like an option: exit 2, Unknown option', async () => {
    expectRefusal(await t.cli('scope', 'create', '--evil', '--description', 'x'), 2, /Unknown option '--evil'/);
  });
  it('takes a dash-led identifier as the positional it is: a kid is base64url, one in 64 starts with "-"', async () => {
    const kid = `-5Xz${'A'.repeat(39)}`; // kid-shaped (43 base64url characters), and no real key's
    expectRefusal(await t.cli('keys', 'withdraw', kid), 1, new RegExp(`no signing key ${kid}`));
    expectRefusal(await t.cli('client', 'disable', '-5Xz_client'), 1, /no client/);
    expectRefusal(await t.cli('role', 'update', '-x', '--description', 'y'), 1, /no role/);
    // A grant id comes from oidc-provider, base64url too: as an option value (read as the id
    // it is, so the refusal names it: no such grant was issued).
    expectRefusal(await t.cli('revoke', '--grant', '-Qa_grant', '--json'), 1, /no grant -Qa_grant/);
    // Still refused: a dash-led argument of a command that takes no positionals.
    expectRefusal(await t.cli('client', 'list', '-x'), 2, /Unknown option '-x'/);
  });
  it('treats a dash-led name after -- as a name: refused as an invalid scope name, exit 1', async () => {
    expectRefusal(await t.cli('scope', 'create', '--description', 'x', '--json', '--', '-evil'), 1, /invalid scope name "-evil"/);
  });
  it('refuses an unknown option carrying an escape sequence without echoing it raw: exit 2', async () => {
    expectRefusal(await t.cli('scope', 'list', '--\u001b[2Jx'), 2, /Unknown option/);
  });
  it('refuses an unknown command carrying an escape sequence without echoing it raw: exit 2 and the help', async () => {
    const r = await t.cli('scope', '\u001b]0;owned\u0007');
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n')[0]).toBe(String.raw`govauth: unknown command "scope \u001b]0;owned\u0007"`);
    expect(r.stderr).toContain('usage: govauth <command>');
    expect(r.stderr.replace(/\n/g, '')).not.toMatch(/\p{Cc}/u);
  });
  it('refuses a not-found name carrying an escape sequence without echoing it raw: exit 1', async () => {
    expectRefusal(await t.cli('scope', 'update', 'no\u001b[2J.such', '--description', 'x'), 1, /no scope named/);
    expectRefusal(await t.cli('revoke', '--client', 'cl_\u001b[31mx'), 1, /no client/);
  });
  it.each([['garbage', 'garbage'], ['a NUL byte', '\u0000'], ['SQL', `' OR 1=1 --`], ['a huge duration', '99999999d'], ['100 000 characters', '7'.repeat(100_000)]])(
    'audit export --since refuses %s: exit 1, a one-line message',
    async (_, since) => {
      expectRefusal(await t.cli('audit', 'export', `--since=${since}`), 1, /--since must /);
    },
  );
  it('refuses a lone surrogate in any argument (no real argv can carry one): exit 2, never an internal error', async () => {
    expectRefusal(await t.cli('scope', 'create', 'lone.\ud83e', '--description', 'x'), 2, /not well-formed Unicode/);
    expectRefusal(await t.cli('revoke', '--client', 'cl_\udc00'), 2, /not well-formed Unicode/);
    expectRefusal(await t.cli('role', 'create', 'r', '--scopes', 'ai.training.read', '--description', 'bad \ud800 text'), 2, /not well-formed Unicode/);
  });
  it('audit export treats % and _ in an --action prefix literally, not as SQL wildcards', async () => {
    const family = (await t.cli('audit', 'export', '--action', 'admin.*')).stdout.trim().split('\n').filter(Boolean);
    expect(family.length).toBeGreaterThan(0);
    for (const line of family) expect((JSON.parse(line) as { action: string }).action.startsWith('admin.')).toBe(true);
    for (const pattern of ['%*', '_dmin.*', 'admin%*']) expect(await t.cli('audit', 'export', '--action', pattern), pattern).toEqual({ code: 0, stdout: '', stderr: '' });
    const tail = await t.cliJson<{ events: { action: string }[] }>('audit', 'tail', '--action', '%*');
    expect(tail.events).toEqual([]);
  });
  it('audit export matches an SQL-looking --actor literally: exit 0, no records', async () => {
    const r = await t.cli('audit', 'export', '--actor', `' OR 1=1 --`);
    expect(r).toEqual({ code: 0, stdout: '', stderr: '' });
  });
});

describe('the real binary (bin/govauth.js in its own process)', () => {
  const env = (): NodeJS.ProcessEnv => ({ ...process.env, ...t.env });
  const real = async (...args: string[]): Promise<CliResult> => {
    try {
      const { stdout, stderr } = await run(process.execPath, [bin, ...args], { env: env() });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };
  it('cannot be handed a NUL byte at all: the OS argv has no room for one (Node refuses to spawn)', () => {
    expect(() => execFile(process.execPath, [bin, 'scope', 'create', 'a\u0000b', '--description', 'x'])).toThrow(/null bytes/);
  });
  it('refuses an ANSI escape in a client name: exit 1, one line, nothing raw on the terminal', async () => {
    expectRefusal(await real('client', 'create', '--name', 'evil\u001b[2J', '--grant', 'client_credentials', '--json'), 1, /name must not contain control characters/);
  });
  it('stores SQL-looking Unicode text verbatim and prints exactly one JSON object', async () => {
    const description = `'; DROP TABLE "Scope"; -- 数据 🧪 ${++n}`;
    expectJson(await real('scope', 'create', 'real.binary', '--description', description, '--json'));
    expect(await list(['scope', 'list'], 'scopes', 'description')).toContain(description);
  });
});
