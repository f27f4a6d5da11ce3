-- AlterTable
ALTER TABLE "Client" ADD COLUMN     "tlsSelfSigned" BOOLEAN NOT NULL DEFAULT false;

