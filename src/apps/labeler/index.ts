export { SequenceLabeler, type LabelerOptions, type LabeledText, type LabelerFitOptions } from './labeler';
export { tagScores, type TagScores } from './metrics';
