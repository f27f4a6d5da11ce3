-- CreateTable
CREATE TABLE "AbacAttribute" (
    "subjectKind" TEXT NOT NULL,
    "subjectKey" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "value" TEXT NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "AbacAttribute_pkey" PRIMARY KEY ("subjectKind","subjectKey","key")
);

-- CreateTable
CREATE TABLE "AbacNetworkZone" (
    "name" TEXT NOT NULL,
    "cidrs" TEXT NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "AbacNetworkZone_pkey" PRIMARY KEY ("name")
);

-- CreateTable
CREATE TABLE "AbacPolicySet" (
    "version" SERIAL NOT NULL,
    "sources" TEXT NOT NULL,
    "sha256" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL,
    "createdBy" TEXT NOT NULL,

    CONSTRAINT "AbacPolicySet_pkey" PRIMARY KEY ("version")
);

-- CreateTable
CREATE TABLE "AbacPolicyActivation" (
    "id" SERIAL NOT NULL,
    "version" INTEGER,
    "activatedAt" TIMESTAMP(3) NOT NULL,
    "activatedBy" TEXT NOT NULL,

    CONSTRAINT "AbacPolicyActivation_pkey" PRIMARY KEY ("id")
);

