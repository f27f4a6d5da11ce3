-- AlterTable
-- Hand-written: Prisma generates a table redefinition here (CREATE new_Client, copy, DROP
-- "Client"), relying on PRAGMA foreign_keys=OFF; the migration runner applies each migration in
-- a transaction, where that pragma is a no-op, so the DROP would cascade and delete every
-- ClientRole. SQLite adds a NOT NULL column with a constant default in place.
ALTER TABLE "Client" ADD COLUMN "adminAccess" BOOLEAN NOT NULL DEFAULT false;

-- Backfill (hand-written): before this flag, holding a role that carries a scope of the admin
-- API's resource was how an administrator gave a bot admin access. Such confidential clients
-- keep it; apps for people never had it explicitly and must be allowed anew.
UPDATE "Client" SET "adminAccess" = true
WHERE "secretHash" IS NOT NULL
  AND "id" IN (
    SELECT cr."clientId" FROM "ClientRole" cr
    JOIN "RoleScope" rs ON rs."roleName" = cr."roleName"
    JOIN "ResourceScope" res ON res."scopeName" = rs."scopeName"
    WHERE res."audience" = 'urn:govauth:admin'
  );
