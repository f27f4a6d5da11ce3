-- CreateTable
CREATE TABLE "SelfRegisteredClient" (
    "clientId" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "host" TEXT,
    "name" TEXT NOT NULL,
    "redirectUris" TEXT NOT NULL DEFAULT '[]',
    "trust" TEXT NOT NULL DEFAULT 'unreviewed',
    "scopeCeiling" TEXT,
    "resourceCeiling" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "reviewedAt" TIMESTAMP(3),

    CONSTRAINT "SelfRegisteredClient_pkey" PRIMARY KEY ("clientId")
);

-- CreateTable
CREATE TABLE "SelfRegistrationPolicy" (
    "id" INTEGER NOT NULL,
    "trustedHosts" TEXT NOT NULL DEFAULT '[]',
    "allowUnknownHosts" BOOLEAN NOT NULL DEFAULT true,
    "scopeCeiling" TEXT,
    "resourceCeiling" TEXT,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "SelfRegistrationPolicy_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "RegistrationToken" (
    "id" TEXT NOT NULL,
    "tokenHash" TEXT NOT NULL,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "maxUses" INTEGER NOT NULL,
    "uses" INTEGER NOT NULL DEFAULT 0,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "revokedAt" TIMESTAMP(3),

    CONSTRAINT "RegistrationToken_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "RegistrationToken_tokenHash_key" ON "RegistrationToken"("tokenHash");

