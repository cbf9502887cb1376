/**
 * The default size limits of the `forecast` commands, in a module of their
 * own so the light manifest can show them in `--help` without loading the
 * data reader or any model.
 *
 * @module
 */

/** Default bound on the points one series spans on its grid (gaps included): 1,000,000 (`--max-points`, `LoadOptions.maxPoints`). */
export const MAX_POINTS = 1_000_000;

/** Default bound on a forecast horizon, in steps (`--max-horizon` raises it). */
export const MAX_HORIZON = 10_000;
