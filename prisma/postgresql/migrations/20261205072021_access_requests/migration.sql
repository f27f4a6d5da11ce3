-- CreateTable
CREATE TABLE "AccessPolicy" (
    "roleName" TEXT NOT NULL,
    "requireApproval" BOOLEAN NOT NULL DEFAULT true,
    "approvals" INTEGER NOT NULL DEFAULT 1,
    "approverRole" TEXT NOT NULL,
    "maxDuration" INTEGER NOT NULL,
    "lapseAfter" INTEGER NOT NULL DEFAULT 86400,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "AccessPolicy_pkey" PRIMARY KEY ("roleName")
);

-- CreateTable
CREATE TABLE "AccessRequest" (
    "id" TEXT NOT NULL,
    "holderType" TEXT NOT NULL,
    "holderId" TEXT NOT NULL,
    "holderLabel" TEXT NOT NULL,
    "roleName" TEXT NOT NULL,
    "duration" INTEGER NOT NULL,
    "justification" TEXT NOT NULL,
    "requestedByType" TEXT NOT NULL,
    "requestedBy" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL,
    "lapsesAt" TIMESTAMP(3) NOT NULL,
    "decidedAt" TIMESTAMP(3),
    "grantExpiresAt" TIMESTAMP(3),

    CONSTRAINT "AccessRequest_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "AccessDecision" (
    "requestId" TEXT NOT NULL,
    "approverId" TEXT NOT NULL,
    "approverEmail" TEXT NOT NULL,
    "decision" TEXT NOT NULL,
    "reason" TEXT,
    "recordedBy" TEXT NOT NULL,
    "at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "AccessDecision_pkey" PRIMARY KEY ("requestId","approverId")
);

-- CreateIndex
CREATE INDEX "AccessRequest_state_lapsesAt_idx" ON "AccessRequest"("state", "lapsesAt");

-- CreateIndex
CREATE INDEX "AccessRequest_holderId_idx" ON "AccessRequest"("holderId");

-- CreateIndex
CREATE INDEX "AccessRequest_roleName_idx" ON "AccessRequest"("roleName");

-- AddForeignKey
ALTER TABLE "AccessPolicy" ADD CONSTRAINT "AccessPolicy_roleName_fkey" FOREIGN KEY ("roleName") REFERENCES "Role"("name") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "AccessDecision" ADD CONSTRAINT "AccessDecision_requestId_fkey" FOREIGN KEY ("requestId") REFERENCES "AccessRequest"("id") ON DELETE CASCADE ON UPDATE CASCADE;

