-- AlterTable: added columns only (a table rebuild would cascade-delete the client's child rows).
ALTER TABLE "Client" ADD COLUMN "tlsSubjectDn" TEXT;
ALTER TABLE "Client" ADD COLUMN "tlsSan" TEXT;
ALTER TABLE "Client" ADD COLUMN "tlsBoundTokens" BOOLEAN NOT NULL DEFAULT false;
