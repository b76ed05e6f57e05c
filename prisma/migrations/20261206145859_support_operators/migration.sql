-- AlterTable
ALTER TABLE "support_conversations" ADD COLUMN     "answeredAt" TIMESTAMP(3),
ADD COLUMN     "cardMessageId" TEXT,
ADD COLUMN     "closedBy" TEXT,
ADD COLUMN     "lastInboundAt" TIMESTAMP(3),
ADD COLUMN     "ratedAt" TIMESTAMP(3),
ADD COLUMN     "rating" INTEGER,
ADD COLUMN     "ratingComment" TEXT,
ADD COLUMN     "remindedAt" TIMESTAMP(3),
ADD COLUMN     "staffChatId" TEXT;

-- AlterTable
ALTER TABLE "support_messages" ADD COLUMN     "staffMessageId" TEXT;

-- CreateIndex
CREATE INDEX "support_conversations_staffChatId_staffThreadId_idx" ON "support_conversations"("staffChatId", "staffThreadId");

-- CreateIndex
CREATE INDEX "support_messages_conversationId_direction_deliveryStatus_idx" ON "support_messages"("conversationId", "direction", "deliveryStatus");

