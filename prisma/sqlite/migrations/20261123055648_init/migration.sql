-- CreateTable
CREATE TABLE "Scope" (
    "name" TEXT NOT NULL PRIMARY KEY,
    "description" TEXT NOT NULL,
    "sensitivity" TEXT NOT NULL DEFAULT 'low',
    "maxTtl" INTEGER,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "Resource" (
    "audience" TEXT NOT NULL PRIMARY KEY,
    "name" TEXT NOT NULL,
    "tokenTtl" INTEGER,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "ResourceScope" (
    "audience" TEXT NOT NULL,
    "scopeName" TEXT NOT NULL,

    PRIMARY KEY ("audience", "scopeName"),
    CONSTRAINT "ResourceScope_audience_fkey" FOREIGN KEY ("audience") REFERENCES "Resource" ("audience") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "ResourceScope_scopeName_fkey" FOREIGN KEY ("scopeName") REFERENCES "Scope" ("name") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "Role" (
    "name" TEXT NOT NULL PRIMARY KEY,
    "description" TEXT NOT NULL DEFAULT '',
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "RoleScope" (
    "roleName" TEXT NOT NULL,
    "scopeName" TEXT NOT NULL,

    PRIMARY KEY ("roleName", "scopeName"),
    CONSTRAINT "RoleScope_roleName_fkey" FOREIGN KEY ("roleName") REFERENCES "Role" ("name") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "RoleScope_scopeName_fkey" FOREIGN KEY ("scopeName") REFERENCES "Scope" ("name") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "Client" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "name" TEXT NOT NULL,
    "secretHash" TEXT,
    "grantTypes" TEXT NOT NULL,
    "redirectUris" TEXT NOT NULL DEFAULT '[]',
    "scopeCeiling" TEXT,
    "introspectAudience" TEXT,
    "disabled" BOOLEAN NOT NULL DEFAULT false,
    "secretRotatedAt" DATETIME,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    CONSTRAINT "Client_introspectAudience_fkey" FOREIGN KEY ("introspectAudience") REFERENCES "Resource" ("audience") ON DELETE RESTRICT ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "ClientRole" (
    "clientId" TEXT NOT NULL,
    "roleName" TEXT NOT NULL,
    "expiresAt" DATETIME,
    "reason" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,

    PRIMARY KEY ("clientId", "roleName"),
    CONSTRAINT "ClientRole_clientId_fkey" FOREIGN KEY ("clientId") REFERENCES "Client" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "ClientRole_roleName_fkey" FOREIGN KEY ("roleName") REFERENCES "Role" ("name") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "SigningKey" (
    "kid" TEXT NOT NULL PRIMARY KEY,
    "alg" TEXT NOT NULL,
    "publicJwk" TEXT NOT NULL,
    "sealedJwk" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "activateAt" DATETIME NOT NULL,
    "retireAt" DATETIME,
    "expireAt" DATETIME
);

-- CreateTable
CREATE TABLE "OidcPayload" (
    "model" TEXT NOT NULL,
    "id" TEXT NOT NULL,
    "payload" TEXT NOT NULL,
    "grantId" TEXT,
    "uid" TEXT,
    "userCode" TEXT,
    "expiresAt" DATETIME,
    "consumedAt" DATETIME,

    PRIMARY KEY ("model", "id")
);

-- CreateTable
CREATE TABLE "Change" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "kind" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- CreateTable
CREATE TABLE "Meta" (
    "key" TEXT NOT NULL PRIMARY KEY,
    "value" TEXT NOT NULL
);

-- CreateIndex
CREATE INDEX "ResourceScope_scopeName_idx" ON "ResourceScope"("scopeName");

-- CreateIndex
CREATE INDEX "RoleScope_scopeName_idx" ON "RoleScope"("scopeName");

-- CreateIndex
CREATE INDEX "Client_introspectAudience_idx" ON "Client"("introspectAudience");

-- CreateIndex
CREATE INDEX "ClientRole_roleName_idx" ON "ClientRole"("roleName");

-- CreateIndex
CREATE INDEX "OidcPayload_grantId_idx" ON "OidcPayload"("grantId");

-- CreateIndex
CREATE INDEX "OidcPayload_uid_idx" ON "OidcPayload"("uid");

-- CreateIndex
CREATE INDEX "OidcPayload_userCode_idx" ON "OidcPayload"("userCode");

-- CreateIndex
CREATE INDEX "OidcPayload_expiresAt_idx" ON "OidcPayload"("expiresAt");

-- CreateIndex
CREATE INDEX "Change_createdAt_idx" ON "Change"("createdAt");

