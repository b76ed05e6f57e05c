/** The SMS sender for local runs and the sandbox: nothing leaves the machine. */
import { maskPhone, type Logger } from '../infra/logger.js';
import type { SmsSender } from './index.js';

export interface LogSmsSenderOptions {
  logger: Logger;
  /** Print the code itself (development, tests, sandbox). Never in production. */
  revealCodes: boolean;
}

export function createLogSmsSender(options: LogSmsSenderOptions): SmsSender {
  return {
    kind: 'log',
    async send(message) {
      if (options.revealCodes) {
        options.logger.info({ to: maskPhone(message.to), devOnlyCode: message.code }, '[DEV ONLY — not sent] login code SMS');
      } else {
        options.logger.info({ to: maskPhone(message.to) }, 'login code SMS (log provider: not sent)');
      }
    },
  };
}
