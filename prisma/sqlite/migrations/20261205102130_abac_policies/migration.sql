-- CreateTable
CREATE TABLE "AbacAttribute" (
    "subjectKind" TEXT NOT NULL,
    "subjectKey" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "value" TEXT NOT NULL,
    "updatedAt" DATETIME NOT NULL,

    PRIMARY KEY ("subjectKind", "subjectKey", "key")
);

-- CreateTable
CREATE TABLE "AbacNetworkZone" (
    "name" TEXT NOT NULL PRIMARY KEY,
    "cidrs" TEXT NOT NULL,
    "updatedAt" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "AbacPolicySet" (
    "version" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "sources" TEXT NOT NULL,
    "sha256" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL,
    "createdBy" TEXT NOT NULL
);

-- CreateTable
CREATE TABLE "AbacPolicyActivation" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "version" INTEGER,
    "activatedAt" DATETIME NOT NULL,
    "activatedBy" TEXT NOT NULL
);

