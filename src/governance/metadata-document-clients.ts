// Governance's record of Client ID Metadata Document clients (draft-ietf-oauth-client-id-
// metadata-document): oidc-provider resolves such a client from its URL and keeps no record of
// it, so govauth records it on its first successful resolution, keyed by the URL, for the trust
// decision (approve, restrict, block), the consent page's verified domain and the review.
import { adminEvent, type Actor } from '../audit/audit-chain.ts';
import { isUniqueViolation } from '../db/catalog-repository.ts';
import { writeWithChanges } from '../db/change-feed.ts';
import type { Database } from '../db/database.ts';
import { findSelfRegisteredRow, insertSelfRegisteredRow, updateSelfRegisteredRow } from '../db/self-registration-repository.ts';
import type { ClientDef } from './policy-model.ts';
import { checkText } from './validation.ts';

export interface ResolvedDocument {
  /** The document's URL: its client_id (the document says so, oidc-provider checked). */
  readonly clientId: string;
  readonly name: string | undefined;
  readonly redirectUris: readonly string[];
}

const nameOf = (doc: ResolvedDocument, host: string): string => {
  try {
    return checkText(doc.name ?? host, 'client_name', 200);
  } catch {
    return host; // a name that cannot be shown is replaced by the verified domain
  }
};

/** Whether the record already says what the document says (nothing to write). */
export function isRecorded(known: ClientDef | undefined, doc: ResolvedDocument): boolean {
  if (known?.selfRegistered?.kind !== 'metadata_document') return false;
  const host = new URL(doc.clientId).hostname;
  return known.name === nameOf(doc, host) && known.redirectUris.length === doc.redirectUris.length && known.redirectUris.every((u, i) => u === doc.redirectUris[i]);
}

/** Records a resolved document: created on first resolution (audited), its name and redirect URIs kept current. */
export async function recordMetadataDocumentClient(db: Database, doc: ResolvedDocument, by: Actor): Promise<void> {
  const host = new URL(doc.clientId).hostname;
  const name = nameOf(doc, host);
  const redirectUris = JSON.stringify(doc.redirectUris);
  try {
    await writeWithChanges(db, async (tx) => {
      const row = await findSelfRegisteredRow(tx, doc.clientId);
      if (!row) {
        await insertSelfRegisteredRow(tx, { clientId: doc.clientId, kind: 'metadata_document', host, name, redirectUris });
        const after = { name, host, redirect_uris: doc.redirectUris };
        return { result: undefined, changes: [{ kind: 'client', key: doc.clientId }], audit: [adminEvent(by, 'client.self_identified', doc.clientId, null, after)] };
      }
      await updateSelfRegisteredRow(tx, doc.clientId, { name, redirectUris });
      return { result: undefined, changes: [{ kind: 'client', key: doc.clientId }], audit: [adminEvent(by, 'client.metadata_document_changed', doc.clientId, { name: row.name, redirect_uris: JSON.parse(row.redirectUris) as unknown }, { name, redirect_uris: doc.redirectUris })] };
    });
  } catch (err) {
    // Another instance recorded it first: the record exists, which is all this wanted.
    if (!isUniqueViolation(err)) throw err;
  }
}
