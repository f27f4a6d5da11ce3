-- DropIndex
DROP INDEX "AuditEvent_actor_idx";

-- DropIndex
DROP INDEX "AuditEvent_subject_idx";

-- AlterTable
ALTER TABLE "AuditEvent" ADD COLUMN "resource" TEXT;

-- CreateIndex
CREATE INDEX "AuditEvent_actor_seq_idx" ON "AuditEvent"("actor", "seq");

-- CreateIndex
CREATE INDEX "AuditEvent_subject_seq_idx" ON "AuditEvent"("subject", "seq");

-- CreateIndex
CREATE INDEX "AuditEvent_clientId_seq_idx" ON "AuditEvent"("clientId", "seq");

-- CreateIndex
CREATE INDEX "AuditEvent_resource_seq_idx" ON "AuditEvent"("resource", "seq");

