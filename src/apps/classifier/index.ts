export { SequenceClassifier, argmax, type ClassifierOptions, type ClassifierFitOptions, type Pooling } from './classifier';
