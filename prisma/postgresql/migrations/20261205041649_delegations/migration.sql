-- CreateTable
CREATE TABLE "DelegationPolicy" (
    "id" TEXT NOT NULL,
    "agentRole" TEXT NOT NULL,
    "subjectRole" TEXT NOT NULL,
    "audience" TEXT NOT NULL,
    "scopes" TEXT,
    "maxDepth" INTEGER NOT NULL DEFAULT 2,
    "maxTtl" INTEGER,
    "description" TEXT NOT NULL DEFAULT '',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "DelegationPolicy_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "StandingDelegation" (
    "id" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    "clientId" TEXT NOT NULL,
    "audience" TEXT NOT NULL,
    "scopes" TEXT NOT NULL,
    "maxDepth" INTEGER NOT NULL DEFAULT 2,
    "expiresAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "StandingDelegation_pkey" PRIMARY KEY ("id")
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

-- AddForeignKey
ALTER TABLE "DelegationPolicy" ADD CONSTRAINT "DelegationPolicy_agentRole_fkey" FOREIGN KEY ("agentRole") REFERENCES "Role"("name") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "DelegationPolicy" ADD CONSTRAINT "DelegationPolicy_subjectRole_fkey" FOREIGN KEY ("subjectRole") REFERENCES "Role"("name") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "DelegationPolicy" ADD CONSTRAINT "DelegationPolicy_audience_fkey" FOREIGN KEY ("audience") REFERENCES "Resource"("audience") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "StandingDelegation" ADD CONSTRAINT "StandingDelegation_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "StandingDelegation" ADD CONSTRAINT "StandingDelegation_clientId_fkey" FOREIGN KEY ("clientId") REFERENCES "Client"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "StandingDelegation" ADD CONSTRAINT "StandingDelegation_audience_fkey" FOREIGN KEY ("audience") REFERENCES "Resource"("audience") ON DELETE CASCADE ON UPDATE CASCADE;

