-- AlterTable
ALTER TABLE "Client" ADD COLUMN "cibaMode" TEXT;
ALTER TABLE "Client" ADD COLUMN "cibaNotificationEndpoint" TEXT;

-- CreateTable
CREATE TABLE "CibaRequest" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "authReqId" TEXT NOT NULL,
    "clientId" TEXT NOT NULL,
    "userId" TEXT,
    "bindingMessage" TEXT,
    "scopes" TEXT NOT NULL,
    "resource" TEXT,
    "status" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL,
    "expiresAt" DATETIME NOT NULL,
    "decidedAt" DATETIME,
    "decidedBy" TEXT,
    "lastPolledAt" DATETIME
);

-- CreateIndex
CREATE UNIQUE INDEX "CibaRequest_authReqId_key" ON "CibaRequest"("authReqId");

-- CreateIndex
CREATE INDEX "CibaRequest_userId_status_idx" ON "CibaRequest"("userId", "status");

-- CreateIndex
CREATE INDEX "CibaRequest_status_expiresAt_idx" ON "CibaRequest"("status", "expiresAt");

