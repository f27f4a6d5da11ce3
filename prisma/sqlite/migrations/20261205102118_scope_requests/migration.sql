-- AccessRequest.roleName becomes nullable (a request may be for one scope on one resource): SQLite
-- cannot drop NOT NULL with ALTER TABLE, so that one table is rebuilt; every other change only adds.
-- CreateTable
CREATE TABLE "ScopeAccessPolicy" (
    "audience" TEXT NOT NULL,
    "scopeName" TEXT NOT NULL,
    "requireApproval" BOOLEAN NOT NULL DEFAULT true,
    "approvals" INTEGER NOT NULL DEFAULT 1,
    "approverRole" TEXT NOT NULL,
    "maxDuration" INTEGER NOT NULL,
    "lapseAfter" INTEGER NOT NULL DEFAULT 86400,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,

    PRIMARY KEY ("audience", "scopeName"),
    CONSTRAINT "ScopeAccessPolicy_audience_fkey" FOREIGN KEY ("audience") REFERENCES "Resource" ("audience") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "ScopeAccessPolicy_scopeName_fkey" FOREIGN KEY ("scopeName") REFERENCES "Scope" ("name") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "UserScopeGrant" (
    "userId" TEXT NOT NULL,
    "audience" TEXT NOT NULL,
    "scopeName" TEXT NOT NULL,
    "expiresAt" DATETIME NOT NULL,
    "requestId" TEXT,
    "reason" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,

    PRIMARY KEY ("userId", "audience", "scopeName"),
    CONSTRAINT "UserScopeGrant_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "UserScopeGrant_audience_fkey" FOREIGN KEY ("audience") REFERENCES "Resource" ("audience") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "UserScopeGrant_scopeName_fkey" FOREIGN KEY ("scopeName") REFERENCES "Scope" ("name") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "ClientScopeGrant" (
    "clientId" TEXT NOT NULL,
    "audience" TEXT NOT NULL,
    "scopeName" TEXT NOT NULL,
    "expiresAt" DATETIME NOT NULL,
    "requestId" TEXT,
    "reason" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,

    PRIMARY KEY ("clientId", "audience", "scopeName"),
    CONSTRAINT "ClientScopeGrant_clientId_fkey" FOREIGN KEY ("clientId") REFERENCES "Client" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "ClientScopeGrant_audience_fkey" FOREIGN KEY ("audience") REFERENCES "Resource" ("audience") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "ClientScopeGrant_scopeName_fkey" FOREIGN KEY ("scopeName") REFERENCES "Scope" ("name") ON DELETE CASCADE ON UPDATE CASCADE
);

-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_AccessRequest" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "holderType" TEXT NOT NULL,
    "holderId" TEXT NOT NULL,
    "holderLabel" TEXT NOT NULL,
    "roleName" TEXT,
    "audience" TEXT,
    "scopeName" TEXT,
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
INSERT INTO "new_AccessRequest" ("createdAt", "decidedAt", "duration", "grantExpiresAt", "holderId", "holderLabel", "holderType", "id", "justification", "lapsesAt", "requestedBy", "requestedByType", "roleName", "state") SELECT "createdAt", "decidedAt", "duration", "grantExpiresAt", "holderId", "holderLabel", "holderType", "id", "justification", "lapsesAt", "requestedBy", "requestedByType", "roleName", "state" FROM "AccessRequest";
DROP TABLE "AccessRequest";
ALTER TABLE "new_AccessRequest" RENAME TO "AccessRequest";
CREATE INDEX "AccessRequest_state_lapsesAt_idx" ON "AccessRequest"("state", "lapsesAt");
CREATE INDEX "AccessRequest_holderId_idx" ON "AccessRequest"("holderId");
CREATE INDEX "AccessRequest_roleName_idx" ON "AccessRequest"("roleName");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

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

