// govauth user …: people who sign in through the login and consent UI.
import type { EndAccessOptions, EndedAccess, UserView } from '../../governance/user-registry.ts';
import { AppError } from '../../errors/app-error.ts';
import { loadConfig } from '../../config/load-config.ts';
import { flag, list, UsageError, type CliContext, type Command } from '../command.ts';
import { table } from '../table.ts';

// Loaded when a command runs, not with the command list (src/cli/main.ts).
const userRegistry = () => import('../../governance/user-registry.ts');
const personSessions = () => import('../../governance/person-sessions.ts');

/** One password from stdin: the trailing newline a shell pipe adds is not part of it. */
async function passwordFromStdin(values: Record<string, unknown>, ctx: CliContext): Promise<string> {
  if (!flag(values as never, 'password-stdin')) throw new UsageError('--password-stdin is required: pipe the password in, so it stays out of shell history and process lists');
  const raw = await ctx.stdin();
  return raw.replace(/\r?\n$/, '');
}

// set-password and mfa reset end the person's sign-ins as `revoke --user` does (user-registry.ts).
const endAccessOptions = (ctx: CliContext): EndAccessOptions => ({ horizonSeconds: loadConfig(ctx.env).signIn.sessionMaxAge, now: ctx.now() });
const endedJson = (e: EndedAccess) => ({ sessions: e.sessions, grants: e.grants, refresh_tokens: e.refreshTokens, tokens_revoked_until: e.cutoff });
const endedText = (e: EndedAccess): string =>
  `ended ${e.sessions} sign-in session(s) and ${e.grants} grant(s) (${e.refreshTokens} refresh token(s)); ` +
  `every token issued to them until ${e.cutoff} is revoked. They must sign in again.`;

const describe = (u: UserView): string =>
  [
    `id:     ${u.id}`,
    `email:  ${u.email}`,
    `roles:  ${u.roles.map((r) => (r.expires_at ? `${r.role} (until ${r.expires_at})` : r.role)).join(' ') || '(none)'}`,
    `mfa:    ${u.mfa_enrolled ? 'TOTP enrolled' : 'not enrolled'}`,
    ...(u.factors ? [`factors: TOTP ${u.factors.totp ? 'on' : 'off'} · passkeys ${u.factors.passkeys} · recovery codes left ${u.factors.recovery_codes_left}`] : []),
    `status: ${u.disabled ? 'DISABLED' : 'active'}`,
  ].join('\n');

export const userCommands: Command[] = [
  {
    name: 'user create',
    usage: 'govauth user create <email> --password-stdin [--roles r1,r2]',
    summary: 'create a person who signs in with email and password',
    options: { 'password-stdin': { type: 'boolean' }, roles: { type: 'string', multiple: true } },
    positionals: ['email'],
    async run({ values, positionals }, ctx) {
      const { createUser } = await userRegistry();
      const user = await createUser(await ctx.db(), { email: positionals[0] ?? '', password: await passwordFromStdin(values, ctx), roles: list(values, 'roles') }, ctx.actor);
      return { json: { id: user.id }, text: `created user ${user.email} (${user.id})` };
    },
  },
  {
    name: 'user list',
    usage: 'govauth user list',
    summary: 'list people',
    options: {},
    positionals: [],
    async run(_input, ctx) {
      const { listUsers } = await userRegistry();
      const users = await listUsers(await ctx.db());
      return {
        json: { users },
        text: table(
          ['EMAIL', 'ID', 'ROLES', 'MFA', 'STATUS'],
          users.map((u) => [u.email, u.id, u.roles.map((r) => r.role).join(' ') || '-', u.mfa_enrolled ? 'totp' : '-', u.disabled ? 'disabled' : 'active']),
        ),
      };
    },
  },
  {
    name: 'user show',
    usage: 'govauth user show <email>',
    summary: 'show one person',
    options: {},
    positionals: ['email'],
    async run({ positionals }, ctx) {
      const [{ getUser }, { effectiveScopesOf }] = await Promise.all([userRegistry(), import('../../governance/role-inclusions.ts')]);
      const db = await ctx.db();
      const user = await getUser(db, positionals[0] ?? '', ctx.now());
      // Through their roles and the roles those include (role hierarchies), as tokens get them.
      const scopes = await effectiveScopesOf(db, user.roles, ctx.now());
      // Which factors they have against what their roles require (role require-factor).
      const { factors } = user;
      const required = factors.required.map((r) => `${r.factor} (${r.roles.join(', ')})`).join(' ') || '(none)';
      const missing = factors.missing.length ? `\nMISSING required factor: ${factors.missing.map((r) => `${r.factor} for ${r.roles.join(', ')}`).join('; ')}` : '';
      return {
        json: { user, effective_scopes: scopes },
        text: `${describe(user)}\nscopes: ${scopes.map((s) => s.scope).join(' ') || '(none)'}\nrequired factors: ${required}${missing}`,
      };
    },
  },
  {
    name: 'user update',
    usage: 'govauth user update <email> --roles r1,r2',
    summary: "replace a person's roles (their next token follows)",
    options: { roles: { type: 'string', multiple: true } },
    positionals: ['email'],
    async run({ values, positionals }, ctx) {
      const { setUserRoles } = await userRegistry();
      const roles = list(values, 'roles');
      if (!roles) throw new UsageError('--roles is required (a comma-separated list, or "" for none)');
      const user = await setUserRoles(await ctx.db(), positionals[0] ?? '', roles, ctx.actor);
      return { json: { user }, text: describe(user) };
    },
  },
  {
    name: 'user disable',
    usage: 'govauth user disable <email>',
    summary: 'stop a person from signing in; their refresh tokens stop working',
    options: {},
    positionals: ['email'],
    async run({ positionals }, ctx) {
      const { setUserDisabled } = await userRegistry();
      const user = await setUserDisabled(await ctx.db(), positionals[0] ?? '', true, ctx.actor);
      return { json: { user }, text: `disabled user ${user.email}` };
    },
  },
  {
    name: 'user enable',
    usage: 'govauth user enable <email>',
    summary: 'let a disabled person sign in again',
    options: {},
    positionals: ['email'],
    async run({ positionals }, ctx) {
      const { setUserDisabled } = await userRegistry();
      const user = await setUserDisabled(await ctx.db(), positionals[0] ?? '', false, ctx.actor);
      return { json: { user }, text: `enabled user ${user.email}` };
    },
  },
  {
    name: 'user set-password',
    usage: 'govauth user set-password <email> --password-stdin',
    summary: "set a person's password; ends their sign-ins and revokes their tokens (as revoke --user)",
    options: { 'password-stdin': { type: 'boolean' } },
    positionals: ['email'],
    async run({ values, positionals }, ctx) {
      const { setUserPassword } = await userRegistry();
      const { user, ended } = await setUserPassword(await ctx.db(), positionals[0] ?? '', await passwordFromStdin(values, ctx), ctx.actor, endAccessOptions(ctx));
      return { json: { id: user.id, ended: endedJson(ended) }, text: `password changed for ${user.email}\n${endedText(ended)}` };
    },
  },
  {
    name: 'user sessions',
    usage: 'govauth user sessions <email>',
    summary: "list a person's live sign-in sessions (browser, address, when, apps); end one with user end-session",
    options: {},
    positionals: ['email'],
    async run({ positionals }, ctx) {
      const { personSessions: list } = await personSessions();
      const { sessions } = await list(await ctx.db(), positionals[0] ?? '', ctx.now());
      return {
        json: { sessions },
        text: sessions.length
          ? table(
              ['ID', 'BROWSER', 'ADDRESS', 'SIGNED IN', 'LAST SEEN', 'METHODS', 'APPS'],
              sessions.map((s) => [s.id, s.browser, s.ip ?? '-', s.signed_in_at ?? '-', s.last_seen_at ?? '-', s.methods.join(' ') || '-', s.apps.join(' ') || '-']),
            )
          : 'no live sign-in sessions',
      };
    },
  },
  {
    name: 'user end-session',
    usage: 'govauth user end-session <email> <session-id>',
    summary: "end one sign-in of a person (an id from user sessions): that browser is signed out and the grants issued in it are revoked",
    options: {},
    positionals: ['email', 'session-id'],
    async run({ positionals }, ctx) {
      const { endPersonSession } = await personSessions();
      const id = positionals[1] ?? '';
      const { grants } = await endPersonSession(await ctx.db(), positionals[0] ?? '', id, ctx.actor, ctx.now());
      return { json: { ended: { session: id, grants_revoked: grants } }, text: `ended session ${id}; ${grants} grant(s) issued in it revoked (their refresh tokens deleted, their access tokens inactive)` };
    },
  },
  {
    name: 'user mfa enroll',
    usage: 'govauth user mfa enroll <email> [--force]',
    summary: 'enrol TOTP (RFC 6238, 30 s, 6 digits); prints the secret and otpauth:// URL once. --force replaces an enrolment: the old authenticator stops working',
    options: { force: { type: 'boolean' } },
    positionals: ['email'],
    async run({ values, positionals }, ctx) {
      const { enrollMfa } = await userRegistry();
      const enrolled = await enrollMfa(await ctx.db(), await ctx.master(), positionals[0] ?? '', ctx.actor, { force: flag(values, 'force'), now: ctx.now() }).catch((err: unknown) => {
        if (err instanceof AppError && err.code === 'conflict') throw new AppError('conflict', `${err.message}. Run it again with --force to replace it.`);
        throw err;
      });
      const replaced = enrolled.replaced ? 'The previous enrolment is replaced: the authenticator set up with it stops working now.\n' : '';
      return {
        json: { ...enrolled },
        text: `${replaced}secret:      ${enrolled.secret}\notpauth_url: ${enrolled.otpauth_url}\n\nAdd it to an authenticator app now: it is not shown again.`,
      };
    },
  },
  {
    name: 'user mfa reset',
    usage: 'govauth user mfa reset <email>',
    summary: "remove every second factor of a person (TOTP, recovery codes, passkeys: a lost phone); ends their sign-ins and revokes their tokens",
    options: {},
    positionals: ['email'],
    async run({ positionals }, ctx) {
      const { resetMfa } = await userRegistry();
      const { user, ended } = await resetMfa(await ctx.db(), positionals[0] ?? '', ctx.actor, endAccessOptions(ctx));
      return { json: { user, ended: endedJson(ended) }, text: `every second factor removed for ${user.email} (authenticator app, recovery codes, passkeys)\n${endedText(ended)}` };
    },
  },
];
