-- AlterTable
ALTER TABLE "Client" ADD COLUMN "jwks" TEXT;

