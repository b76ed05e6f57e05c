/**
 * Staff members (operators and admins of the staff Telegram group), recorded on their first
 * action. Who may act is decided by the edge from configuration (STAFF_USER_IDS,
 * STAFF_ADMIN_IDS); this keeps the record and its role in step with it.
 */
import type { PrismaClient } from '../../infra/prisma.js';
import { cleanText, type StaffRef } from './support.service.js';

export function createStaffService(deps: { prisma: PrismaClient }) {
  const { prisma } = deps;
  return {
    /** Records (or refreshes) a staff member; the name is the Telegram name, cleaned and bounded. */
    async ensure(input: { telegramUserId: string; name: string; admin: boolean }): Promise<StaffRef> {
      const name = cleanText(input.name).slice(0, 128) || `id${input.telegramUserId}`;
      const role = input.admin ? 'admin' : 'operator';
      const existing = await prisma.staffMember.findUnique({ where: { telegramUserId: input.telegramUserId } });
      if (existing && existing.name === name && existing.role === role && existing.isActive) return { id: existing.id, name, role };
      const row = await prisma.staffMember.upsert({
        where: { telegramUserId: input.telegramUserId },
        create: { telegramUserId: input.telegramUserId, name, role },
        update: { name, role, isActive: true },
      });
      return { id: row.id, name: row.name, role: row.role };
    },

    /** Active staff, for the admin's "reassign to" list. */
    async list(limit = 20) {
      return prisma.staffMember.findMany({ where: { isActive: true }, orderBy: { createdAt: 'asc' }, take: limit, select: { id: true, telegramUserId: true, name: true, role: true } });
    },

    async byId(id: string) {
      return prisma.staffMember.findUnique({ where: { id } });
    },
  };
}

export type StaffService = ReturnType<typeof createStaffService>;
