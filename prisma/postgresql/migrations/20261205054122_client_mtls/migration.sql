-- AlterTable
ALTER TABLE "Client" ADD COLUMN     "tlsBoundTokens" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "tlsSan" TEXT,
ADD COLUMN     "tlsSubjectDn" TEXT;

