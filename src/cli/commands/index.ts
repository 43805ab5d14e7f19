// The command registry: every command of the CLI, in the order --help lists them. A new command
// is a CliCommand (see ../frame.ts) added here.
import type { CliCommand } from '../frame';
import { trainLm } from './train-lm';
import { sample, complete, evalLm } from './lm';
import { info, convertCmd } from './models';
import { trainGenerator, generate } from './generator';
import { trainForecaster, forecast } from './forecaster';

export const commands: CliCommand[] = [trainLm, sample, complete, evalLm, trainGenerator, generate, trainForecaster, forecast, info, convertCmd];
