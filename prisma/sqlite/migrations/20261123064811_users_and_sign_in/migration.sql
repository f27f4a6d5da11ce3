-- CreateTable
CREATE TABLE "User" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "email" TEXT NOT NULL,
    "passwordHash" TEXT NOT NULL,
    "disabled" BOOLEAN NOT NULL DEFAULT false,
    "mfaSecret" TEXT,
    "mfaEnrolledAt" DATETIME,
    "mfaLastStep" INTEGER,
    "passwordChangedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "UserRole" (
    "userId" TEXT NOT NULL,
    "roleName" TEXT NOT NULL,
    "expiresAt" DATETIME,
    "reason" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,

    PRIMARY KEY ("userId", "roleName"),
    CONSTRAINT "UserRole_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "UserRole_roleName_fkey" FOREIGN KEY ("roleName") REFERENCES "Role" ("name") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "LoginThrottle" (
    "key" TEXT NOT NULL PRIMARY KEY,
    "failures" INTEGER NOT NULL,
    "firstFailureAt" DATETIME NOT NULL,
    "lockedUntil" DATETIME
);

-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_Client" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "name" TEXT NOT NULL,
    "secretHash" TEXT,
    "grantTypes" TEXT NOT NULL,
    "redirectUris" TEXT NOT NULL DEFAULT '[]',
    "postLogoutRedirectUris" TEXT NOT NULL DEFAULT '[]',
    "scopeCeiling" TEXT,
    "introspectAudience" TEXT,
    "disabled" BOOLEAN NOT NULL DEFAULT false,
    "secretRotatedAt" DATETIME,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    CONSTRAINT "Client_introspectAudience_fkey" FOREIGN KEY ("introspectAudience") REFERENCES "Resource" ("audience") ON DELETE RESTRICT ON UPDATE CASCADE
);
INSERT INTO "new_Client" ("createdAt", "disabled", "grantTypes", "id", "introspectAudience", "name", "redirectUris", "scopeCeiling", "secretHash", "secretRotatedAt", "updatedAt") SELECT "createdAt", "disabled", "grantTypes", "id", "introspectAudience", "name", "redirectUris", "scopeCeiling", "secretHash", "secretRotatedAt", "updatedAt" FROM "Client";
DROP TABLE "Client";
ALTER TABLE "new_Client" RENAME TO "Client";
CREATE INDEX "Client_introspectAudience_idx" ON "Client"("introspectAudience");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

-- CreateIndex
CREATE UNIQUE INDEX "User_email_key" ON "User"("email");

-- CreateIndex
CREATE INDEX "UserRole_roleName_idx" ON "UserRole"("roleName");

-- CreateIndex
CREATE INDEX "LoginThrottle_firstFailureAt_idx" ON "LoginThrottle"("firstFailureAt");

