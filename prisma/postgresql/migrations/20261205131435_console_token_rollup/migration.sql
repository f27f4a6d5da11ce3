-- CreateTable
CREATE TABLE "TokenRollup" (
    "dimension" TEXT NOT NULL,
    "minute" INTEGER NOT NULL,
    "key" TEXT NOT NULL,
    "issued" INTEGER NOT NULL,
    "refused" INTEGER NOT NULL,

    CONSTRAINT "TokenRollup_pkey" PRIMARY KEY ("dimension","minute","key")
);

-- Backfill: the console overview's token counts from the last 24 hours of the audit trail
-- (from the start of the six-hour bucket holding the instant a day ago, so every bucket the
-- overview reads is whole), counted as src/audit/token-rollup-records.ts counts each new batch
-- (buckets: a minute per grant type, an hour per scope, six hours per client). Without it an upgraded installation
-- shows no tokens until a day has passed. Uses the ("action", "at") index, dropped below.
-- "at" is timestamp(3) without time zone holding UTC: its epoch is read as UTC.
INSERT INTO "TokenRollup" ("dimension", "minute", "key", "issued", "refused")
SELECT 'grant', floor(extract(epoch FROM "at") / 60)::int, COALESCE(("detail")::jsonb ->> 'grant_type', ''),
       COUNT(*) FILTER (WHERE "action" <> 'token.refused'), COUNT(*) FILTER (WHERE "action" = 'token.refused')
FROM "AuditEvent"
WHERE "action" IN ('token.issued', 'token.refreshed', 'token.exchanged', 'token.refused') AND "at" >= (to_timestamp(floor((extract(epoch FROM now()) - 86400) / 21600) * 21600) AT TIME ZONE 'UTC')
GROUP BY 2, 3;

INSERT INTO "TokenRollup" ("dimension", "minute", "key", "issued", "refused")
SELECT 'client', (floor(extract(epoch FROM "at") / 21600) * 360)::int, COALESCE("clientId", ''),
       COUNT(*) FILTER (WHERE "action" <> 'token.refused'), COUNT(*) FILTER (WHERE "action" = 'token.refused')
FROM "AuditEvent"
WHERE "action" IN ('token.issued', 'token.refreshed', 'token.exchanged', 'token.refused') AND "at" >= (to_timestamp(floor((extract(epoch FROM now()) - 86400) / 21600) * 21600) AT TIME ZONE 'UTC')
GROUP BY 2, 3;

INSERT INTO "TokenRollup" ("dimension", "minute", "key", "issued", "refused")
SELECT 'scope', (floor(extract(epoch FROM "at") / 3600) * 60)::int, COALESCE("s"."value", ''), COUNT(*), 0
FROM "AuditEvent"
CROSS JOIN LATERAL jsonb_array_elements_text(CASE WHEN jsonb_typeof(("detail")::jsonb -> 'scopes') = 'array' THEN ("detail")::jsonb -> 'scopes' ELSE '[]'::jsonb END) AS "s"("value")
WHERE "action" IN ('token.issued', 'token.refreshed', 'token.exchanged') AND "at" >= (to_timestamp(floor((extract(epoch FROM now()) - 86400) / 21600) * 21600) AT TIME ZONE 'UTC')
GROUP BY 2, 3;

-- DropIndex: the overview no longer reads the audit trail; the "action" index serves action
-- filters and the distinct action names.
DROP INDEX "AuditEvent_action_at_idx";
