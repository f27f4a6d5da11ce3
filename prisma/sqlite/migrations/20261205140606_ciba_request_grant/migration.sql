-- AlterTable
ALTER TABLE "CibaRequest" ADD COLUMN "grantId" TEXT;

-- CreateIndex
CREATE UNIQUE INDEX "CibaRequest_grantId_key" ON "CibaRequest"("grantId");

