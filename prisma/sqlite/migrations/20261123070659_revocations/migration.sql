-- AlterTable
ALTER TABLE "OidcPayload" ADD COLUMN "accountId" TEXT;
ALTER TABLE "OidcPayload" ADD COLUMN "clientId" TEXT;

-- CreateTable
CREATE TABLE "Revocation" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "kind" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "cutoff" DATETIME NOT NULL,
    "expiresAt" DATETIME NOT NULL,
    "reason" TEXT,
    "actor" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- CreateIndex
CREATE INDEX "Revocation_expiresAt_idx" ON "Revocation"("expiresAt");

-- CreateIndex
CREATE UNIQUE INDEX "Revocation_kind_key_key" ON "Revocation"("kind", "key");

-- CreateIndex
CREATE INDEX "OidcPayload_accountId_idx" ON "OidcPayload"("accountId");

-- CreateIndex
CREATE INDEX "OidcPayload_clientId_idx" ON "OidcPayload"("clientId");

