-- CreateTable
CREATE TABLE "DelegationPolicy" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "agentRole" TEXT NOT NULL,
    "subjectRole" TEXT NOT NULL,
    "audience" TEXT NOT NULL,
    "scopes" TEXT,
    "maxDepth" INTEGER NOT NULL DEFAULT 2,
    "maxTtl" INTEGER,
    "description" TEXT NOT NULL DEFAULT '',
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    CONSTRAINT "DelegationPolicy_agentRole_fkey" FOREIGN KEY ("agentRole") REFERENCES "Role" ("name") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "DelegationPolicy_subjectRole_fkey" FOREIGN KEY ("subjectRole") REFERENCES "Role" ("name") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "DelegationPolicy_audience_fkey" FOREIGN KEY ("audience") REFERENCES "Resource" ("audience") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "StandingDelegation" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "userId" TEXT NOT NULL,
    "clientId" TEXT NOT NULL,
    "audience" TEXT NOT NULL,
    "scopes" TEXT NOT NULL,
    "maxDepth" INTEGER NOT NULL DEFAULT 2,
    "expiresAt" DATETIME,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "StandingDelegation_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "StandingDelegation_clientId_fkey" FOREIGN KEY ("clientId") REFERENCES "Client" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "StandingDelegation_audience_fkey" FOREIGN KEY ("audience") REFERENCES "Resource" ("audience") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateIndex
CREATE INDEX "DelegationPolicy_agentRole_idx" ON "DelegationPolicy"("agentRole");

-- CreateIndex
CREATE INDEX "DelegationPolicy_subjectRole_idx" ON "DelegationPolicy"("subjectRole");

-- CreateIndex
CREATE INDEX "DelegationPolicy_audience_idx" ON "DelegationPolicy"("audience");

-- CreateIndex
CREATE INDEX "StandingDelegation_clientId_idx" ON "StandingDelegation"("clientId");

-- CreateIndex
CREATE INDEX "StandingDelegation_audience_idx" ON "StandingDelegation"("audience");

-- CreateIndex
CREATE UNIQUE INDEX "StandingDelegation_userId_clientId_audience_key" ON "StandingDelegation"("userId", "clientId", "audience");

