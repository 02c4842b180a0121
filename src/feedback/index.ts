// Analyst feedback: verdicts on stored alerts, the suppressions they cause in later runs, and
// per-rule precision.

export { type RuleStats, ruleStats } from './stats.ts';
export { FeedbackSuppressions } from './suppressions.ts';
export { currentVerdicts, type FeedbackInput, isActiveSuppression, parseDuration, recordFeedback } from './verdicts.ts';
