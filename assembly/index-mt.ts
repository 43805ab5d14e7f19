// The threaded build's export list (asconfig-mt.json): everything the single-thread binaries export
// (assembly/index.ts) plus the team runner. Built with a shared imported memory and the threads
// feature; the single-thread binaries never include assembly/mt/.
export * from './index';
export { run_plan_mt, mt_helper, mt_quit, CTRL_WORDS, SEG_SERIAL, SEG_SPLIT, SEG_BARRIER } from './mt/runner';
