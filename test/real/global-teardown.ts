import { stopComponents } from './start';

/** jest globalTeardown: stops the real components (it runs whether the tests passed or not). */
export default async function globalTeardown(): Promise<void> {
  await stopComponents();
}
