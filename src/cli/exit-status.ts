// The CLI's exit statuses, apart from errors.ts (which maps failures to them) so that a run
// that succeeds loads none of the error classes and the modules that define them.
/** Exit statuses (sysexits.h where one fits: 70 EX_SOFTWARE, 78 EX_CONFIG). README: "Exit status". */
export const EXIT = {
  ok: 0,
  /** The operation was refused or names something that does not exist; nothing changed. */
  refused: 1,
  /** The command line is wrong: unknown command or option, missing or extra argument. */
  usage: 2,
  /** `govauth audit verify` found an edited, deleted or reordered record. */
  chainBroken: 3,
  /**
   * The change is committed, but a live instance had not applied it when the wait ran out
   * (EX_TEMPFAIL: it ends by itself; running the command again would repeat the change).
   */
  notInForceEverywhere: 75,
  /** A bug: the message says what failed. */
  internal: 70,
  /** The configuration is invalid, or names no govauth database. */
  config: 78,
} as const;
