-- CreateTable
CREATE TABLE "SelfRegisteredClient" (
    "clientId" TEXT NOT NULL PRIMARY KEY,
    "kind" TEXT NOT NULL,
    "host" TEXT,
    "name" TEXT NOT NULL,
    "redirectUris" TEXT NOT NULL DEFAULT '[]',
    "trust" TEXT NOT NULL DEFAULT 'unreviewed',
    "scopeCeiling" TEXT,
    "resourceCeiling" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "reviewedAt" DATETIME
);

-- CreateTable
CREATE TABLE "SelfRegistrationPolicy" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "trustedHosts" TEXT NOT NULL DEFAULT '[]',
    "allowUnknownHosts" BOOLEAN NOT NULL DEFAULT true,
    "scopeCeiling" TEXT,
    "resourceCeiling" TEXT,
    "updatedAt" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "RegistrationToken" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "tokenHash" TEXT NOT NULL,
    "expiresAt" DATETIME NOT NULL,
    "maxUses" INTEGER NOT NULL,
    "uses" INTEGER NOT NULL DEFAULT 0,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "revokedAt" DATETIME
);

-- CreateIndex
CREATE UNIQUE INDEX "RegistrationToken_tokenHash_key" ON "RegistrationToken"("tokenHash");

