-- CreateTable
CREATE TABLE "TokenRollup" (
    "dimension" TEXT NOT NULL,
    "minute" INTEGER NOT NULL,
    "key" TEXT NOT NULL,
    "issued" INTEGER NOT NULL,
    "refused" INTEGER NOT NULL,

    PRIMARY KEY ("dimension", "minute", "key")
);

-- Backfill: the console overview's token counts from the last 24 hours of the audit trail
-- (from the start of the six-hour bucket holding the instant a day ago, so every bucket the
-- overview reads is whole), counted as src/audit/token-rollup-records.ts counts each new batch
-- (buckets: a minute per grant type, an hour per scope, six hours per client). Without it an upgraded installation
-- shows no tokens until a day has passed. Uses the ("action", "at") index, dropped below.
INSERT INTO "TokenRollup" ("dimension", "minute", "key", "issued", "refused")
SELECT 'grant', CAST(strftime('%s', "at") AS INTEGER) / 60, COALESCE(json_extract("detail", '$.grant_type'), ''),
       SUM("action" <> 'token.refused'), SUM("action" = 'token.refused')
FROM "AuditEvent"
WHERE "action" IN ('token.issued', 'token.refreshed', 'token.exchanged', 'token.refused') AND "at" >= strftime('%Y-%m-%dT%H:%M:%S', (CAST(strftime('%s', 'now', '-1 day') AS INTEGER) / 21600) * 21600, 'unixepoch')
GROUP BY 2, 3;

INSERT INTO "TokenRollup" ("dimension", "minute", "key", "issued", "refused")
SELECT 'client', CAST(strftime('%s', "at") AS INTEGER) / 21600 * 360, COALESCE("clientId", ''),
       SUM("action" <> 'token.refused'), SUM("action" = 'token.refused')
FROM "AuditEvent"
WHERE "action" IN ('token.issued', 'token.refreshed', 'token.exchanged', 'token.refused') AND "at" >= strftime('%Y-%m-%dT%H:%M:%S', (CAST(strftime('%s', 'now', '-1 day') AS INTEGER) / 21600) * 21600, 'unixepoch')
GROUP BY 2, 3;

INSERT INTO "TokenRollup" ("dimension", "minute", "key", "issued", "refused")
SELECT 'scope', CAST(strftime('%s', "at") AS INTEGER) / 3600 * 60, COALESCE("s"."value", ''), COUNT(*), 0
FROM "AuditEvent", json_each("AuditEvent"."detail", '$.scopes') AS "s"
WHERE "action" IN ('token.issued', 'token.refreshed', 'token.exchanged') AND "at" >= strftime('%Y-%m-%dT%H:%M:%S', (CAST(strftime('%s', 'now', '-1 day') AS INTEGER) / 21600) * 21600, 'unixepoch')
  AND json_type("AuditEvent"."detail", '$.scopes') = 'array'
GROUP BY 2, 3;

-- DropIndex: the overview no longer reads the audit trail; the "action" index serves action
-- filters (ordered by seq within an action, which ("action", "at") is not on SQLite).
DROP INDEX "AuditEvent_action_at_idx";
