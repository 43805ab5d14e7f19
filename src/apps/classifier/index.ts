export { SequenceClassifier, argmax, truncate, type Truncation, type ClassifierOptions, type ClassifierFitOptions, type Pooling } from './classifier';
