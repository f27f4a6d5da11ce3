-- CreateTable
CREATE TABLE "AccessPolicy" (
    "roleName" TEXT NOT NULL PRIMARY KEY,
    "requireApproval" BOOLEAN NOT NULL DEFAULT true,
    "approvals" INTEGER NOT NULL DEFAULT 1,
    "approverRole" TEXT NOT NULL,
    "maxDuration" INTEGER NOT NULL,
    "lapseAfter" INTEGER NOT NULL DEFAULT 86400,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    CONSTRAINT "AccessPolicy_roleName_fkey" FOREIGN KEY ("roleName") REFERENCES "Role" ("name") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "AccessRequest" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "holderType" TEXT NOT NULL,
    "holderId" TEXT NOT NULL,
    "holderLabel" TEXT NOT NULL,
    "roleName" TEXT NOT NULL,
    "duration" INTEGER NOT NULL,
    "justification" TEXT NOT NULL,
    "requestedByType" TEXT NOT NULL,
    "requestedBy" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL,
    "lapsesAt" DATETIME NOT NULL,
    "decidedAt" DATETIME,
    "grantExpiresAt" DATETIME
);

-- CreateTable
CREATE TABLE "AccessDecision" (
    "requestId" TEXT NOT NULL,
    "approverId" TEXT NOT NULL,
    "approverEmail" TEXT NOT NULL,
    "decision" TEXT NOT NULL,
    "reason" TEXT,
    "recordedBy" TEXT NOT NULL,
    "at" DATETIME NOT NULL,

    PRIMARY KEY ("requestId", "approverId"),
    CONSTRAINT "AccessDecision_requestId_fkey" FOREIGN KEY ("requestId") REFERENCES "AccessRequest" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateIndex
CREATE INDEX "AccessRequest_state_lapsesAt_idx" ON "AccessRequest"("state", "lapsesAt");

-- CreateIndex
CREATE INDEX "AccessRequest_holderId_idx" ON "AccessRequest"("holderId");

-- CreateIndex
CREATE INDEX "AccessRequest_roleName_idx" ON "AccessRequest"("roleName");

