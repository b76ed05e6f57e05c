export { createFakeVk, type FakeVk } from './fake-vk.js';
export { VK_ERROR_MESSAGES, VkApiError } from './errors.js';
export { KEYBOARD_LIMITS, parseKeyboard, type FakeVkButton, type FakeVkButtonType, type FakeVkKeyboard } from './keyboard.js';
export { EXECUTE_MAX_CALLS, parseExecuteCode, type ExecuteCall } from './execute.js';
export type * from './types.js';
export { DOC_MAX_BYTES, type FakeVkDocType, type FakeVkStoredDoc } from './docs.js';
