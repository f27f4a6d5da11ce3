-- AlterTable
-- Hand-written, as in 20261204230928_client_admin_access: Prisma generates a table
-- redefinition here, whose DROP would cascade inside the migration runner's transaction and
-- delete every child row. SQLite adds a NOT NULL column with a constant default in place.
ALTER TABLE "Client" ADD COLUMN "tlsSelfSigned" BOOLEAN NOT NULL DEFAULT false;
