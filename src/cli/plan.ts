import { Command, EXIT_OK } from './command';
export const planCommand: Command = {
  name: 'plan', summary: 'TODO', synopsis: '', description: '', options: {}, minPositionals: 0, maxPositionals: 1,
  run() {
    return EXIT_OK;
  },
};
