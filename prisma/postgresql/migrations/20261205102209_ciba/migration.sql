-- AlterTable
ALTER TABLE "Client" ADD COLUMN     "cibaMode" TEXT,
ADD COLUMN     "cibaNotificationEndpoint" TEXT;

-- CreateTable
CREATE TABLE "CibaRequest" (
    "id" TEXT NOT NULL,
    "authReqId" TEXT NOT NULL,
    "clientId" TEXT NOT NULL,
    "userId" TEXT,
    "bindingMessage" TEXT,
    "scopes" TEXT NOT NULL,
    "resource" TEXT,
    "status" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "decidedAt" TIMESTAMP(3),
    "decidedBy" TEXT,
    "lastPolledAt" TIMESTAMP(3),

    CONSTRAINT "CibaRequest_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "CibaRequest_authReqId_key" ON "CibaRequest"("authReqId");

-- CreateIndex
CREATE INDEX "CibaRequest_userId_status_idx" ON "CibaRequest"("userId", "status");

-- CreateIndex
CREATE INDEX "CibaRequest_status_expiresAt_idx" ON "CibaRequest"("status", "expiresAt");

