-- AlterTable
ALTER TABLE "products" ADD COLUMN     "platformRef" TEXT;

-- CreateTable
CREATE TABLE "integration_resources" (
    "platform" TEXT NOT NULL,
    "resource" TEXT NOT NULL,
    "externalId" TEXT NOT NULL,
    "localKey" TEXT NOT NULL,
    "modifiedAt" TIMESTAMP(3) NOT NULL,
    "contentHash" TEXT NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "integration_resources_pkey" PRIMARY KEY ("platform","resource","externalId")
);

-- CreateTable
CREATE TABLE "integration_events" (
    "id" UUID NOT NULL,
    "platform" TEXT NOT NULL,
    "topic" TEXT NOT NULL,
    "deliveryId" TEXT,
    "externalId" TEXT,
    "status" TEXT NOT NULL,
    "reason" TEXT,
    "payload" JSONB,
    "receivedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "integration_events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "integration_imports" (
    "platform" TEXT NOT NULL,
    "resource" TEXT NOT NULL,
    "cursor" TEXT,
    "done" BOOLEAN NOT NULL DEFAULT false,
    "imported" INTEGER NOT NULL DEFAULT 0,
    "failed" INTEGER NOT NULL DEFAULT 0,
    "total" INTEGER,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "integration_imports_pkey" PRIMARY KEY ("platform","resource")
);

-- CreateIndex
CREATE INDEX "integration_events_platform_status_receivedAt_idx" ON "integration_events"("platform", "status", "receivedAt" DESC);

-- CreateIndex
CREATE INDEX "integration_events_receivedAt_idx" ON "integration_events"("receivedAt");

