// What the graph-built applications with a resumable training loop share (ConditionalGenerator,
// Forecaster): the model, its Adam optimizer and the loop's training state, and the model file
// around them — `serialize`/`save` (with or without the optimizer and training state, so a
// checkpoint resumes bit for bit) and `dispose`. Each application says what else its file holds.
import type { GraphModel } from '../graph/model';
import type { Optimizer } from '../train/optim';
import { serialize, type SaveOptions } from '../io/format';
import { save as saveFile } from '../io/files';
import { ValueError, show } from '../errors';
import { checkKeys } from './charlm/options';
import type { LoopSettings } from './graph-loop';

/** The training loop's state kept in checkpoints. */
export interface TrainingState {
  /** The run's settings (a resumed run keeps them). */
  settings: LoopSettings;
  /** Steps taken so far. */
  step: number;
  /** The last validation metric, when there was one. */
  validation?: number;
}

export abstract class GraphApp {
  abstract readonly model: GraphModel;
  protected optimizer: Optimizer | null = null;
  protected training: TrainingState | null = null;

  /** Training steps taken so far (kept in checkpoints). */
  get step(): number {
    return this.training?.step ?? 0;
  }

  /** The model file: the graph, the application's metadata and (unless `optimizer: false`) the training state. */
  serialize(o: { optimizer?: boolean } = {}): Uint8Array<ArrayBuffer> {
    return serialize(this.model, this.saveOptions(o));
  }

  /** Saves to a path (Node; atomic). */
  async save(path: string, o: { optimizer?: boolean } = {}): Promise<void> {
    await saveFile(this.model, path, this.saveOptions(o));
  }

  /** Releases the model's and its optimizer's wasm memory. */
  dispose(): void {
    this.optimizer?.dispose();
    this.model.dispose();
  }

  /** The file's metadata (and vocabulary) beside the graph; `training` is the state to store, if any. */
  protected abstract fileParts(training: TrainingState | undefined): Pick<SaveOptions, 'metadata' | 'vocabulary'>;

  private saveOptions(o: { optimizer?: boolean }): SaveOptions {
    if (!o || typeof o !== 'object') throw new ValueError(`Expected save options as an object, got ${show(o)}`);
    checkKeys(o, ['optimizer'], 'save option');
    const withOpt = o.optimizer !== false;
    return { ...this.fileParts(withOpt && this.training ? this.training : undefined), optimizer: withOpt && this.optimizer ? this.optimizer : undefined };
  }
}
