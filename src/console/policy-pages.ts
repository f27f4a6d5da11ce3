// Cedar policy set versions: the list (activate, roll back), one version's files, explain, and
// the editor that validates or stores a new version (policy-editor.ts), through abac-routes.ts,
// called as the signed-in person. Auditors see everything and may validate (validatePolicies
// only reads, as in the admin API); storing and activating are refused them by the server
// whatever a page shows (console-routes.ts).
import type { ConsoleAction, ConsolePage } from './console-kit.ts';
import { checked, required } from './form-values.ts';
import { editorPage, POLICY_FORM_BYTES, policyEditor, policyFilesOf, policySources, reportSections } from './policy-editor.ts';
import { when } from './page-model.ts';

interface VersionView { version: number; sha256: string; created_at: string; created_by: string; active: boolean }

const policiesPage: ConsolePage = {
  path: 'policies',
  nav: 'Policies',
  async render({ operation, who, deps }) {
    const [{ versions }, { zones }] = await Promise.all([operation<{ versions: VersionView[] }>('listPolicyVersions'), operation<{ zones: { name: string; cidrs: string[] }[] }>('listPolicyZones')]);
    const admin = who.role === 'admin';
    const active = versions.find((v) => v.active);
    // The editor starts from the active version: changing a policy is the common case.
    const sources = active ? (await operation<{ sources: Record<string, string> }>('showPolicyVersion', { params: { version: String(active.version) } })).sources : {};
    // What the policies read besides roles, read-only here (set with govauth user|client attr, resource|scope label).
    const subjectName = (kind: string, key: string): string => (kind === 'person' ? (deps.policy.user(key)?.email ?? key) : key);
    const attributes = [...(deps.policy.abac?.data().attributes ?? new Map<string, ReadonlyMap<string, Readonly<Record<string, string>>>>())].flatMap(([kind, byKey]) =>
      [...byKey].filter(([, attrs]) => Object.keys(attrs).length > 0).map(([key, attrs]) => [kind, subjectName(kind, key), Object.entries(attrs).map(([k, v]) => `${k}=${v}`).join(', ')]),
    );
    return {
      title: 'Cedar policies',
      script: 'console-files',
      sections: [
        { kind: 'facts', title: 'In force', items: [{ label: 'Active version', value: active ? String(active.version) : 'none: roles only' }], intro: 'New versions are written below or applied with govauth policy apply (validated against the schema generated from the catalogue).' },
        {
          kind: 'table', title: `Stored versions (${versions.length})`, columns: ['Version', 'SHA-256', 'Stored', 'By', 'Active', ''], empty: 'No policy set stored.',
          rows: versions.map((v) => [{ text: String(v.version), href: `/console/policies/show?version=${v.version}` }, { text: v.sha256.slice(0, 16), code: true }, when(v.created_at), v.created_by, v.active ? 'yes' : 'no',
            admin && !v.active ? { forms: [{ action: 'policy-activate', label: 'Activate', danger: true, aria: `Activate version ${v.version}`, fields: { version: String(v.version) } }] } : null]),
        },
        { kind: 'table', title: `Attributes and labels (${attributes.length})`, columns: ['Kind', 'Subject', 'Attributes or labels'], empty: 'No attribute or label is set.', rows: attributes.slice(0, 500) },
        { kind: 'table', title: `Network zones (${zones.length})`, columns: ['Zone', 'Ranges'], empty: 'No zone is named.', rows: zones.map((z) => [z.name, z.cidrs.join(', ')]) },
        {
          kind: 'form' as const, title: 'Explain a decision', method: 'get' as const, action: '/console/policies/explain',
          intro: 'The decision for one scope, the policies that determined it and what would change it (as govauth policy explain).',
          form: { action: '', label: 'Explain', inputs: [{ name: 'user', label: 'Person (email)', type: 'text' as const }, { name: 'client', label: 'Or client (client_id)', type: 'text' as const }, { name: 'resource', label: 'Resource (audience)', type: 'text' as const, required: true }, { name: 'scope', label: 'Scope', type: 'text' as const, required: true }] },
        },
        policyEditor(Object.entries(sources).map(([name, text]) => ({ name, text })), { role: who.role, activate: true }),
        ...(admin && active ? [{ kind: 'form' as const, title: 'Roll back', intro: 'Activate the version that was active before the current one, on every instance.', form: { action: 'policy-rollback', label: 'Roll back', danger: true } }] : []),
      ],
    };
  },
};

const policyShowPage: ConsolePage = {
  path: 'policies/show',
  async render({ operation, query }) {
    const v = await operation<VersionView & { sources: Record<string, string> }>('showPolicyVersion', { params: { version: query.version ?? '' } });
    return {
      title: `Policy version ${v.version}`,
      sections: [
        { kind: 'facts', title: 'Version', items: [{ label: 'Stored', value: when(v.created_at) }, { label: 'By', value: v.created_by }, { label: 'Active', value: v.active ? 'yes' : 'no' }, { label: 'SHA-256', value: v.sha256 }] },
        { kind: 'table', title: 'Files', columns: ['File', 'Cedar'], empty: 'No file.', rows: Object.entries(v.sources).map(([file, source]) => [file, { text: source, code: true }]) },
      ],
    };
  },
};

interface Explained { principal: string; resource: string; scope: string; version: number | null; roles: { granted: boolean; through: string[] }; policy: { permitted: boolean; reason: string; policies: string[]; message: string } | null; decision: string; wouldChange: string[] }

const policyExplainPage: ConsolePage = {
  path: 'policies/explain',
  async render({ operation, query }) {
    const body = Object.fromEntries(['user', 'client', 'resource', 'scope'].flatMap((k) => (query[k]?.trim() ? [[k, query[k].trim()]] : [])));
    const e = await operation<Explained>('explainPolicyDecision', { body: { resource: '', scope: '', ...body } });
    return {
      title: 'Policy decision',
      sections: [
        { kind: 'facts', title: `${e.decision === 'permit' ? 'Permitted' : 'Denied'}: ${e.scope} on ${e.resource}`, items: [{ label: 'Who', value: e.principal }, { label: 'Policy version', value: e.version === null ? 'none: roles only' : String(e.version) }, { label: 'Roles', value: e.roles.granted ? `granted through ${e.roles.through.join(', ')}` : 'not granted', tone: e.roles.granted ? 'ok' : 'bad' }, { label: 'Policy', value: e.policy ? `${e.policy.permitted ? 'permits' : 'forbids'}: ${e.policy.message}` : 'no policy set', ...(e.policy && { tone: e.policy.permitted ? 'ok' as const : 'bad' as const }) }, { label: 'Determined by', value: e.policy?.policies.join(', ') || '—' }] },
        { kind: 'table', title: 'What would change it', columns: ['Change'], empty: 'Nothing listed.', rows: e.wouldChange.map((w) => [w]) },
      ],
    };
  },
};

export const policyPages: readonly ConsolePage[] = [policiesPage, policyShowPage, policyExplainPage];

/** A version number as the operation's schema expects it; anything else is refused there. */
const versionOf = (v: string): number | string => (/^\d{1,9}$/.test(v) ? Number(v) : v);

interface Report { valid: boolean; policies: { id: string; file: string; effect: string }[]; problems: { message: string }[]; warnings: string[] }

/** The form's files as the operations' body; a refusal is shown with the editor as it was. */
const filesBody = (f: Readonly<Record<string, string>>): Record<string, string> => policySources(policyFilesOf(f));

export const policyActions: readonly ConsoleAction[] = [
  { name: 'policy-activate', operationId: 'activatePolicyVersion', input: (f) => ({ body: { version: versionOf(required(f, 'version')) } }), confirm: (f) => `Policy version ${f.version ?? ''} decides every issuance from now on, on every instance.`, done: (_, f) => ({ message: `Activated policy version ${f.version ?? ''}.` }) },
  { name: 'policy-rollback', operationId: 'rollbackPolicy', input: () => ({}), confirm: () => 'The version active before the current one decides every issuance from now on, on every instance.', done: ({ result }) => ({ message: `Rolled back to ${(result as { version: number | null }).version ?? 'no policy (roles only)'}.` }) },
  {
    name: 'policy-validate', operationId: 'validatePolicies', maxBytes: POLICY_FORM_BYTES,
    input: (f) => ({ body: { files: filesBody(f) } }),
    // The flash says only what happened; the report below says whether the files are valid.
    done: ({ result }, f, who) => ({ message: 'Validated; nothing was stored.', page: editorPage(f, who.role, reportSections(result as Report)) }),
    refused: (err, f, who) => editorPage(f, who.role, [{ kind: 'notice', title: 'Not validated', text: err.message, tone: 'error' }]),
  },
  {
    name: 'policy-store', operationId: 'applyPolicies', maxBytes: POLICY_FORM_BYTES,
    input: (f) => ({ body: { files: filesBody(f), activate: checked(f, 'activate') } }),
    // Storing alone changes no decision; activating changes every issuance, so it is asked first.
    confirm: (f) => (checked(f, 'activate') ? 'The files are stored as a new version that decides every issuance from now on, on every instance.' : undefined),
    // Validated before asking: an invalid set comes back at once with its problems and the text,
    // not after a confirmation of a change that would be refused (applyPolicies validates again).
    precheck: async (f, read, who) => {
      const report = await read<Report>('validatePolicies', { body: { files: filesBody(f) } });
      if (report.valid) return undefined;
      const notice = { kind: 'notice' as const, title: 'Not stored', text: `The files are not valid (${report.problems.length} problem${report.problems.length === 1 ? '' : 's'} below), so nothing was stored or activated.`, tone: 'error' as const };
      return { status: 400, page: editorPage(f, who.role, [notice, ...reportSections(report).slice(1)]) }; // the report without its own notice
    },
    done: ({ result }) => {
      const r = result as { version: number; activated: boolean };
      return { message: r.activated ? `Stored policy version ${r.version}; it is active.` : `Stored policy version ${r.version} (not active: activate it from the list).` };
    },
    refused: (err, f, who) => editorPage(f, who.role, [{ kind: 'notice', title: 'Not stored', text: err.message, tone: 'error' }]),
  },
];
