-- AlterTable
ALTER TABLE "notifications" ADD COLUMN     "sendingAt" TIMESTAMP(3);

