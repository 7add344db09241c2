/** Exit codes (docs/commands.md). Only `cli/` sets them. */
export const EXIT_CODES = { ok: 0, failure: 1, changes: 2, failedSteps: 3, refused: 4 } as const;
