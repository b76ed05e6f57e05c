/**
 * Kept for callers of the first version: "talk to a person" is now part of the support
 * service (support.service.ts), which opens or reopens a conversation and stores messages.
 */
export { createSupportService as createSupportRequestsService, SUPPORT_TEXT_MAX, type SupportService as SupportRequestsService } from './support.service.js';
