// The console's route table: its pages (in navigation order), actions and downloads. A new
// feature (CIBA approvals, Cedar policies, passkeys…) adds its page and actions here.
import { accessPolicyActions, accessPolicyPages } from './access-policy-pages.ts';
import { auditDownloads, auditPages, reviewActions } from './audit-pages.ts';
import { catalogActions, catalogPages } from './catalog-pages.ts';
import { clientActions, clientPages } from './client-pages.ts';
import type { ConsoleAction, ConsoleDownload, ConsolePage } from './console-kit.ts';
import { governanceActions, governancePages } from './governance-pages.ts';
import { overviewPage } from './overview-page.ts';
import { peopleActions, peoplePages } from './people-pages.ts';
import { policyActions, policyPages } from './policy-pages.ts';
import { roleActions, rolePages } from './role-pages.ts';
import { trustActions, trustPages } from './trust-pages.ts';

export const CONSOLE_PAGES: readonly ConsolePage[] = [overviewPage, ...clientPages, ...catalogPages, ...rolePages, ...peoplePages, ...governancePages, ...accessPolicyPages, ...trustPages, ...policyPages, ...auditPages];
export const CONSOLE_ACTIONS: readonly ConsoleAction[] = [...clientActions, ...catalogActions, ...roleActions, ...peopleActions, ...governanceActions, ...accessPolicyActions, ...trustActions, ...policyActions, ...reviewActions];
export const CONSOLE_DOWNLOADS: readonly ConsoleDownload[] = [...auditDownloads];
