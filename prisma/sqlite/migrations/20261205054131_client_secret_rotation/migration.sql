-- AlterTable
ALTER TABLE "Client" ADD COLUMN "previousSecretHash" TEXT;
ALTER TABLE "Client" ADD COLUMN "previousSecretValidUntil" DATETIME;
ALTER TABLE "Client" ADD COLUMN "secretExpiresAt" DATETIME;

