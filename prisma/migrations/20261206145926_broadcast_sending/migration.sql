-- AlterEnum
ALTER TYPE "BroadcastStatus" ADD VALUE 'paused' AFTER 'sending';

-- AlterTable
ALTER TABLE "broadcasts" ADD COLUMN     "staffMessageId" TEXT,
ADD COLUMN     "vkAttachment" TEXT;

-- AlterTable
ALTER TABLE "broadcast_deliveries" ADD COLUMN     "attempts" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "chunk" INTEGER,
ADD COLUMN     "enqueuedAt" TIMESTAMP(3),
ADD COLUMN     "platform" "Platform" NOT NULL DEFAULT 'telegram',
ADD COLUMN     "sendingAt" TIMESTAMP(3);

-- CreateIndex
CREATE INDEX "broadcast_deliveries_broadcastId_chunk_idx" ON "broadcast_deliveries"("broadcastId", "chunk");

