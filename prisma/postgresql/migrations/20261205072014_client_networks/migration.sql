-- CreateTable
CREATE TABLE "ClientNetwork" (
    "clientId" TEXT NOT NULL,
    "network" TEXT NOT NULL,
    "firstSeenAt" TIMESTAMP(3) NOT NULL,
    "lastSeenAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "ClientNetwork_pkey" PRIMARY KEY ("clientId","network")
);

