-- AlterTable
ALTER TABLE "AccessRequest" ADD COLUMN     "audience" TEXT,
ADD COLUMN     "scopeName" TEXT,
ALTER COLUMN "roleName" DROP NOT NULL;

-- CreateTable
CREATE TABLE "ScopeAccessPolicy" (
    "audience" TEXT NOT NULL,
    "scopeName" TEXT NOT NULL,
    "requireApproval" BOOLEAN NOT NULL DEFAULT true,
    "approvals" INTEGER NOT NULL DEFAULT 1,
    "approverRole" TEXT NOT NULL,
    "maxDuration" INTEGER NOT NULL,
    "lapseAfter" INTEGER NOT NULL DEFAULT 86400,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "ScopeAccessPolicy_pkey" PRIMARY KEY ("audience","scopeName")
);

-- CreateTable
CREATE TABLE "UserScopeGrant" (
    "userId" TEXT NOT NULL,
    "audience" TEXT NOT NULL,
    "scopeName" TEXT NOT NULL,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "requestId" TEXT,
    "reason" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "UserScopeGrant_pkey" PRIMARY KEY ("userId","audience","scopeName")
);

-- CreateTable
CREATE TABLE "ClientScopeGrant" (
    "clientId" TEXT NOT NULL,
    "audience" TEXT NOT NULL,
    "scopeName" TEXT NOT NULL,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "requestId" TEXT,
    "reason" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ClientScopeGrant_pkey" PRIMARY KEY ("clientId","audience","scopeName")
);

-- CreateIndex
CREATE INDEX "ScopeAccessPolicy_scopeName_idx" ON "ScopeAccessPolicy"("scopeName");

-- CreateIndex
CREATE INDEX "UserScopeGrant_expiresAt_idx" ON "UserScopeGrant"("expiresAt");

-- CreateIndex
CREATE INDEX "UserScopeGrant_scopeName_idx" ON "UserScopeGrant"("scopeName");

-- CreateIndex
CREATE INDEX "UserScopeGrant_audience_idx" ON "UserScopeGrant"("audience");

-- CreateIndex
CREATE INDEX "ClientScopeGrant_expiresAt_idx" ON "ClientScopeGrant"("expiresAt");

-- CreateIndex
CREATE INDEX "ClientScopeGrant_scopeName_idx" ON "ClientScopeGrant"("scopeName");

-- CreateIndex
CREATE INDEX "ClientScopeGrant_audience_idx" ON "ClientScopeGrant"("audience");

-- AddForeignKey
ALTER TABLE "ScopeAccessPolicy" ADD CONSTRAINT "ScopeAccessPolicy_audience_fkey" FOREIGN KEY ("audience") REFERENCES "Resource"("audience") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ScopeAccessPolicy" ADD CONSTRAINT "ScopeAccessPolicy_scopeName_fkey" FOREIGN KEY ("scopeName") REFERENCES "Scope"("name") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "UserScopeGrant" ADD CONSTRAINT "UserScopeGrant_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "UserScopeGrant" ADD CONSTRAINT "UserScopeGrant_audience_fkey" FOREIGN KEY ("audience") REFERENCES "Resource"("audience") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "UserScopeGrant" ADD CONSTRAINT "UserScopeGrant_scopeName_fkey" FOREIGN KEY ("scopeName") REFERENCES "Scope"("name") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ClientScopeGrant" ADD CONSTRAINT "ClientScopeGrant_clientId_fkey" FOREIGN KEY ("clientId") REFERENCES "Client"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ClientScopeGrant" ADD CONSTRAINT "ClientScopeGrant_audience_fkey" FOREIGN KEY ("audience") REFERENCES "Resource"("audience") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ClientScopeGrant" ADD CONSTRAINT "ClientScopeGrant_scopeName_fkey" FOREIGN KEY ("scopeName") REFERENCES "Scope"("name") ON DELETE CASCADE ON UPDATE CASCADE;

