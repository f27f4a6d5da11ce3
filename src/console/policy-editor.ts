// The console's Cedar policy editor: a form of policy files (a name and a text area each, plus
// an empty one to add a file), "activate now", and Validate (validatePolicies, read-only) or
// Store (applyPolicies). Whatever the server answers, the page comes back with the person's
// files as they wrote them, so nothing typed is lost to a refusal. Limits are the policy set's
// own (POLICY_LIMITS, which the admin API's schema also uses).
import { AppError } from '../errors/app-error.ts';
import { POLICY_FILE_NAME, POLICY_LIMITS } from '../governance/abac/cedar-policy-set.ts';
import type { ConsoleRole } from './console-session.ts';
import { checked } from './form-values.ts';
import type { Field, PageModel, Section } from './page-model.ts';

/**
 * The largest policy form the console takes, as the browser sends it: one file at the policy
 * set's limit (256 KiB) percent-encoded (Cedar's punctuation grows to three bytes each) still
 * fits. Larger sets (up to POLICY_LIMITS.setBytes) are for `govauth policy apply` or the admin API.
 */
export const POLICY_FORM_BYTES = 1024 * 1024;

export interface PolicyFile {
  readonly name: string;
  readonly text: string;
}

const FIELD = /^file-(\d{1,4})-(name|text)$/;

/**
 * The form's files in their order: `file-<n>-name` and `file-<n>-text`. A slot left empty is
 * skipped; text without a name, or a name given twice, is refused (a record keyed by name
 * would otherwise drop one file silently). Line ends as the browser sends them (CRLF) become
 * LF, as the files would be on disk.
 */
export function policyFilesOf(form: Readonly<Record<string, string>>): PolicyFile[] {
  const slots = new Map<number, { name: string; text: string }>();
  for (const [key, value] of Object.entries(form)) {
    const m = FIELD.exec(key);
    if (!m) continue;
    const n = Number(m[1]);
    const slot = slots.get(n) ?? { name: '', text: '' };
    if (m[2] === 'name') slot.name = value.trim();
    else slot.text = value.replaceAll('\r\n', '\n');
    slots.set(n, slot);
  }
  return [...slots].sort(([a], [b]) => a - b).map(([, f]) => f).filter((f) => f.name || f.text.trim());
}

/** The files as the operations' `files` record (name → text), refusing what a record cannot say. */
export function policySources(files: readonly PolicyFile[]): Record<string, string> {
  if (!files.length) throw new AppError('invalid_request', 'Write at least one policy file: a name ending in .cedar and its Cedar text.');
  const out: Record<string, string> = {};
  files.forEach((f, i) => {
    if (!f.name) throw new AppError('invalid_request', `File ${i + 1} has Cedar text but no name: give it one ending in .cedar.`);
    if (Object.hasOwn(out, f.name)) throw new AppError('invalid_request', `Two files are named ${f.name}: give each its own name.`);
    out[f.name] = f.text;
  });
  return out;
}

/** The editor form: the files (and one empty slot to add a file), "activate now", and the buttons the role may use. */
export function policyEditor(files: readonly PolicyFile[], options: { role: ConsoleRole; activate: boolean; title?: string }): Section {
  const slots = [...files, { name: '', text: '' }];
  const inputs: Field[] = slots.flatMap((f, i) => {
    const n = i + 1;
    const last = i === slots.length - 1;
    return [
      { name: `file-${n}-name`, label: last ? 'New file: name' : `File ${n}: name`, type: 'text' as const, value: f.name, maxLength: POLICY_LIMITS.fileNameLength, pattern: POLICY_FILE_NAME, ...(last && { hint: `Letters, digits, _ - . ending in .cedar, at most ${POLICY_LIMITS.fileNameLength} characters. Leave the name and the text empty to leave a file out.` }) },
      { name: `file-${n}-text`, label: last ? 'New file: Cedar text' : `File ${n}: Cedar text`, type: 'textarea' as const, value: f.text, code: true, rows: Math.min(24, Math.max(6, f.text.split('\n').length + 1)), maxLength: POLICY_LIMITS.fileBytes, upload: { accept: '.cedar,text/plain', nameField: `file-${n}-name` } },
    ];
  });
  const admin = options.role === 'admin';
  if (admin) inputs.push({ name: 'activate', label: 'Activate it now (it decides every issuance on every instance)', type: 'checkbox', value: options.activate ? 'yes' : '' });
  return {
    kind: 'form',
    title: options.title ?? 'Write or upload a policy set',
    intro: `Validate checks the files against the schema generated from the catalogue and stores nothing. ${admin ? 'Store keeps them as a new version, refused unless valid. ' : ''}At most ${POLICY_LIMITS.files} files of ${POLICY_LIMITS.fileBytes / 1024} KiB each, ${POLICY_LIMITS.setBytes / 1024} KiB together; a form larger than ${POLICY_FORM_BYTES / 1024} KiB as the browser sends it goes through govauth policy apply or the admin API.`,
    form: { action: 'policy-validate', label: 'Validate', inputs, ...(admin && { also: [{ action: 'policy-store', label: 'Store', danger: true }] }) },
  };
}

/** A page with the editor as the person left it, after a report or a refusal. */
export function editorPage(form: Readonly<Record<string, string>>, role: ConsoleRole, before: readonly Section[]): PageModel {
  return {
    title: 'Cedar policies: write or upload',
    script: 'console-files',
    sections: [...before, policyEditor(policyFilesOf(form), { role, activate: checked(form, 'activate'), title: 'Your files' })],
  };
}

interface Report {
  readonly valid: boolean;
  readonly policies: readonly { id: string; file: string; effect: string }[];
  readonly problems: readonly { message: string }[];
  readonly warnings: readonly string[];
}

/** What validation found, with file:line:column positions (cedar-policy-set.ts), above the editor. */
export function reportSections(r: Report): Section[] {
  return [
    r.valid
      ? { kind: 'notice', title: 'Valid', text: `The files are valid: ${r.policies.length} polic${r.policies.length === 1 ? 'y' : 'ies'}${r.warnings.length ? `, ${r.warnings.length} warning${r.warnings.length === 1 ? '' : 's'}` : ''}. Nothing was stored.`, tone: 'ok' }
      : { kind: 'notice', title: 'Not valid', text: `${r.problems.length} problem${r.problems.length === 1 ? '' : 's'}: fix ${r.problems.length === 1 ? 'it' : 'them'} below and validate again. Nothing was stored.`, tone: 'error' },
    ...(r.problems.length ? [{ kind: 'table' as const, title: `Problems (${r.problems.length})`, columns: ['Where and what'], empty: '', rows: r.problems.map((p) => [{ text: p.message, code: true }]) }] : []),
    ...(r.warnings.length ? [{ kind: 'table' as const, title: `Warnings (${r.warnings.length})`, columns: ['Where and what'], empty: '', rows: r.warnings.map((w) => [{ text: w, code: true }]) }] : []),
    ...(r.policies.length ? [{ kind: 'table' as const, title: `Policies (${r.policies.length})`, columns: ['Policy', 'File', 'Effect'], empty: '', rows: r.policies.map((p) => [{ text: p.id, code: true }, p.file, p.effect]) }] : []),
  ];
}
