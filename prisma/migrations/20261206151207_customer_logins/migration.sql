-- CreateTable
CREATE TABLE "customer_logins" (
    "id" UUID NOT NULL,
    "customerId" UUID NOT NULL,
    "identityId" UUID NOT NULL,
    "method" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "customer_logins_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "login_challenges" (
    "id" UUID NOT NULL,
    "customerId" UUID NOT NULL,
    "identityId" UUID NOT NULL,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "passedAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "login_challenges_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "customer_logins_customerId_createdAt_idx" ON "customer_logins"("customerId", "createdAt");

-- CreateIndex
CREATE INDEX "customer_logins_identityId_customerId_idx" ON "customer_logins"("identityId", "customerId");

-- CreateIndex
CREATE UNIQUE INDEX "login_challenges_identityId_customerId_key" ON "login_challenges"("identityId", "customerId");

-- AddForeignKey
ALTER TABLE "customer_logins" ADD CONSTRAINT "customer_logins_customerId_fkey" FOREIGN KEY ("customerId") REFERENCES "customers"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "customer_logins" ADD CONSTRAINT "customer_logins_identityId_fkey" FOREIGN KEY ("identityId") REFERENCES "channel_identities"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "login_challenges" ADD CONSTRAINT "login_challenges_customerId_fkey" FOREIGN KEY ("customerId") REFERENCES "customers"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "login_challenges" ADD CONSTRAINT "login_challenges_identityId_fkey" FOREIGN KEY ("identityId") REFERENCES "channel_identities"("id") ON DELETE CASCADE ON UPDATE CASCADE;

