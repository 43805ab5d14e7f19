// Time-series forecasting (many-to-one and many-to-many regression) with stored scaling.
export { Forecaster, type Series, type ForecasterTrainOptions, type ForecastErrors } from './forecaster';
export type { ForecasterConfig, ForecasterOptions, ForecastMode } from './options';
export type { Scaling, ScalingKind } from './scaling';
