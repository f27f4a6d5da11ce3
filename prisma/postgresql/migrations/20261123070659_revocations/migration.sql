-- AlterTable
ALTER TABLE "OidcPayload" ADD COLUMN     "accountId" TEXT,
ADD COLUMN     "clientId" TEXT;

-- CreateTable
CREATE TABLE "Revocation" (
    "id" SERIAL NOT NULL,
    "kind" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "cutoff" TIMESTAMP(3) NOT NULL,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "reason" TEXT,
    "actor" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Revocation_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "Revocation_expiresAt_idx" ON "Revocation"("expiresAt");

-- CreateIndex
CREATE UNIQUE INDEX "Revocation_kind_key_key" ON "Revocation"("kind", "key");

-- CreateIndex
CREATE INDEX "OidcPayload_accountId_idx" ON "OidcPayload"("accountId");

-- CreateIndex
CREATE INDEX "OidcPayload_clientId_idx" ON "OidcPayload"("clientId");

