-- AlterTable
ALTER TABLE "Client" ADD COLUMN     "previousSecretHash" TEXT,
ADD COLUMN     "previousSecretValidUntil" TIMESTAMP(3),
ADD COLUMN     "secretExpiresAt" TIMESTAMP(3);

