-- AlterTable
ALTER TABLE "Resource" ADD COLUMN     "requirePop" BOOLEAN NOT NULL DEFAULT false;

-- AlterTable
ALTER TABLE "Client" ADD COLUMN     "requirePop" BOOLEAN NOT NULL DEFAULT false;

