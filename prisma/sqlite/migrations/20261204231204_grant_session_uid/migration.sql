-- AlterTable
ALTER TABLE "OidcPayload" ADD COLUMN "sessionUid" TEXT;

-- CreateIndex
CREATE INDEX "OidcPayload_sessionUid_idx" ON "OidcPayload"("sessionUid");

