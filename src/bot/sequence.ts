import { Composer, type Context, type Middleware, type MiddlewareFn, type MiddlewareObj } from 'grammy';

/**
 * Middleware run one after another, each one's `next` calling the one after it, as a Composer's
 * `use` calls chain them, without the Composer's nesting. grammY concatenates each `use` onto
 * the chain before it (`concat(concat(concat(a, b), c), d)`), so every update enters every
 * layer's wrapper, two async functions and their promises each, on its way down, even when the
 * first middleware handles it. Here an update meets only the middleware it reaches: a command
 * answered by the first of thirteen costs one step, not thirteen wrappers.
 *
 * A Composer given here is asked for its middleware when an update reaches it, as grammY does,
 * so one extended later is run as it is then.
 */
export function sequence<C extends Context>(middleware: ReadonlyArray<MiddlewareFn<C> | MiddlewareObj<C>>): MiddlewareFn<C> {
  const steps = [...middleware];
  return (ctx, next) => {
    const step = (i: number): Promise<void> => {
      const part = steps[i];
      if (part === undefined) return next();
      let called = false;
      try {
        const run = typeof part === 'function' ? part : part.middleware();
        return Promise.resolve(
          run(ctx, () => {
            if (called) return Promise.reject(new Error('`next` already called before!'));
            called = true;
            return step(i + 1);
          }),
        ) as Promise<void>;
      } catch (err) {
        // A middleware that throws before returning: a rejection, as from grammY's async wrappers.
        return Promise.reject(err);
      }
    };
    return step(0);
  };
}

/**
 * A Composer whose `use` calls run as one `sequence` instead of nested wrappers. Every Composer
 * method (command, callbackQuery, on, hears, filter, …) registers through `use`, so a feature
 * built on it matches and runs exactly as on a Composer; an update that no handler of it takes
 * passes through one step per handler instead of two async wrappers per handler.
 */
export class FlatComposer<C extends Context> extends Composer<C> {
  readonly #parts: Composer<C>[] = [];
  #handler: MiddlewareFn<C> | undefined;

  override use(...middleware: Array<Middleware<C>>): Composer<C> {
    const composer = new Composer<C>(...middleware);
    this.#parts.push(composer);
    this.#handler = undefined;
    return composer;
  }

  override middleware(): MiddlewareFn<C> {
    return (this.#handler ??= sequence(this.#parts));
  }
}
