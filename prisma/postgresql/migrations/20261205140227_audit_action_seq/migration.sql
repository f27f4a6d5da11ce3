-- DropIndex
DROP INDEX "AuditEvent_action_idx";

-- CreateIndex
CREATE INDEX "AuditEvent_action_seq_idx" ON "AuditEvent"("action", "seq");

