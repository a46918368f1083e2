import { Scenario } from './model';

/**
 * Fixed scenarios that fast-check found failing (or that pin a path down): they run on
 * every test run, before the random ones. Add the shrunk counterexample fast-check prints
 * (`Counterexample: [...]`) as a new entry, with a line saying what it found.
 */
export const REGRESSIONS: Array<{ readonly name: string; readonly scenario: Scenario }> = [];
