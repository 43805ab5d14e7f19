// The command registry: every command of the CLI, in the order --help lists them. A new command
// is a CliCommand (see ../frame.ts) added here.
import type { CliCommand } from '../frame';
import { trainLm } from './train-lm';
import { sample, complete, evalLm } from './lm';
import { info, convertCmd } from './models';
import { trainClassifier, classify, trainLabeler, label } from './apps';
import { trainGenerator, generate } from './generator';
import { trainForecaster, forecast } from './forecaster';
import { trainSeq2seq, translate } from './seq2seq';
import { serve } from './serve';

export const commands: CliCommand[] = [trainLm, sample, complete, evalLm, info, convertCmd, trainClassifier, classify, trainLabeler, label, trainGenerator, generate, trainForecaster, forecast, trainSeq2seq, translate, serve];
