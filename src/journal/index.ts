export { Journal, type JournalOpenOptions } from './journal.js';
export { journalError } from './journal-error.js';
export {
  JournalScope,
  settledOutcomes,
  type InventoryEntry,
  type JournalOutcome,
  type KeyState,
  type OutcomeCount,
  type OutcomeEntry,
  type RecordedOutcome,
  type RunKind,
  type RunRecord,
  type RunStart,
  type RunStatus,
} from './journal-scope.js';
