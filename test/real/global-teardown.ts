import { stopComponents } from './start';
import { removeRunTmpDir } from '../run-tmp';

/** jest globalTeardown: stops the real components (it runs whether the tests passed or not). */
export default async function globalTeardown(): Promise<void> {
  await stopComponents();
  removeRunTmpDir();
}
