-- AlterTable
ALTER TABLE "AuditEvent" ADD COLUMN     "resource" TEXT;

-- CreateIndex
CREATE INDEX "AuditEvent_clientId_seq_idx" ON "AuditEvent"("clientId", "seq");

-- CreateIndex
CREATE INDEX "AuditEvent_resource_seq_idx" ON "AuditEvent"("resource", "seq");

