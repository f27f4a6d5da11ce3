-- CreateTable
CREATE TABLE "ClientNetwork" (
    "clientId" TEXT NOT NULL,
    "network" TEXT NOT NULL,
    "firstSeenAt" DATETIME NOT NULL,
    "lastSeenAt" DATETIME NOT NULL,

    PRIMARY KEY ("clientId", "network")
);

